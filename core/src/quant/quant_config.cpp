#include "nmscope/quant_config.hpp"

#include <algorithm>
#include <charconv>

#include "nmscope/error.hpp"
#include "nmscope/text_list.hpp"

namespace nmscope {

std::string QuantConfig::granularity_name() const {
  if (is_fp16()) return "none";
  switch (granularity) {
    case Granularity::Tensor: return "tensor";
    case Granularity::Channel: return "channel";
    case Granularity::Group: return "group:" + std::to_string(group);
  }
  return "unknown";
}

QuantConfig QuantConfig::canonical() const {
  if (is_fp16()) return {16, Granularity::Tensor, 0, symmetric};
  QuantConfig result = *this;
  if (granularity != Granularity::Group) result.group = 0;
  return result;
}

QuantConfig QuantConfig::from_names(int bits, const std::string& granularity, bool symmetric) {
  QuantConfig result{bits, Granularity::Tensor, 0, symmetric};
  if (bits == 16 && (granularity == "none" || granularity.empty())) return result;
  if (granularity == "channel") {
    result.granularity = Granularity::Channel;
  } else if (granularity.rfind("group:", 0) == 0) {
    const std::string digits = granularity.substr(6);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), result.group);
    if (ec != std::errc() || end != digits.data() + digits.size() || result.group <= 0)
      throw SettingError(Setting::Granularity, "'" + granularity + "' does not name a positive group size");
    result.granularity = Granularity::Group;
  } else if (granularity != "tensor") {
    throw SettingError(Setting::Granularity, "'" + granularity + "' is not group:G, channel, tensor or none");
  }
  return result;
}

void QuantConfig::validate() const {
  if (!(bits == 16 || (bits >= 2 && bits <= 8)))
    throw SettingError(Setting::Bits, std::to_string(bits) + " is not supported (use 2..8, or 16 for fp16)");
  if (granularity == Granularity::Group && group <= 0)
    throw SettingError(Setting::Group, "group size must be positive (got " + std::to_string(group) + ")");
}

std::vector<int> QuantConfig::parse_bits_list(const std::string& comma_separated) {
  std::vector<int> bits;
  for (const auto& item : split_list(comma_separated, Setting::Bits)) {
    int value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size())
      throw SettingError(Setting::Bits, "'" + item + "' is not a whole number");
    QuantConfig probe;
    probe.bits = value;
    probe.validate();
    if (std::find(bits.begin(), bits.end(), value) == bits.end()) bits.push_back(value);  // "8,8" is one width
  }
  return bits;
}

}  // namespace nmscope
