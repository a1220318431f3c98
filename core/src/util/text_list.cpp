#include "nmscope/text_list.hpp"

namespace nmscope {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> comma_items(const std::string& text) {
  std::vector<std::string> items;
  std::string::size_type start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<std::string> split_list(const std::string& text, Setting setting) {
  std::vector<std::string> items;
  for (const std::string& raw : comma_items(text)) {
    std::string item = trim(raw);
    if (item.empty()) throw SettingError(setting, "empty item in list '" + text + "'");
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace nmscope
