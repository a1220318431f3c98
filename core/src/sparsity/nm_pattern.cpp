#include "nmscope/nm_pattern.hpp"

#include <algorithm>
#include <charconv>

#include "nmscope/error.hpp"
#include "nmscope/text_list.hpp"

namespace nmscope {

namespace {

int parse_positive_int(std::string_view text, const std::string& whole) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < 0)
    throw SettingError(Setting::Pattern, "'" + whole + "' is not dense or N:M with whole numbers");
  return value;
}

}  // namespace

NMPattern NMPattern::parse(const std::string& raw) {
  const std::string text = trim(raw);
  if (text == "dense") return dense();
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw SettingError(Setting::Pattern, "'" + text + "' is not dense or N:M (e.g. 2:4)");
  const int kept = parse_positive_int(std::string_view(text).substr(0, colon), text);
  const int group = parse_positive_int(std::string_view(text).substr(colon + 1), text);
  if (group == 0) throw SettingError(Setting::Pattern, "'" + text + "': M must be at least 1");
  if (kept == 0) throw SettingError(Setting::Pattern, "'" + text + "': N must be at least 1 (nothing would be kept)");
  if (kept > group) throw SettingError(Setting::Pattern, "'" + text + "': N must not exceed M");
  if (group > kMaxGroupSize)
    throw SettingError(Setting::Pattern, "'" + text + "': M must be at most " + std::to_string(kMaxGroupSize));
  if (group == 1) return dense();
  return {kept, group};
}

std::vector<NMPattern> NMPattern::parse_list(const std::string& comma_separated) {
  std::vector<NMPattern> patterns;
  // A pattern named twice ("dense,dense") is one configuration, measured once.
  for (const auto& item : split_list(comma_separated, Setting::Pattern))
    if (const NMPattern pattern = parse(item); std::find(patterns.begin(), patterns.end(), pattern) == patterns.end())
      patterns.push_back(pattern);
  return patterns;
}

int NMPattern::metadata_bits() const {
  if (keeps_everything()) return 0;
  int bits = 0;
  while ((1 << bits) < group_size) ++bits;
  return bits;
}

std::string NMPattern::to_string() const {
  if (is_dense()) return "dense";
  return std::to_string(kept_per_group) + ":" + std::to_string(group_size);
}

}  // namespace nmscope
