#pragma once
// Comma-separated lists ("dense,2:4,1:4"): the one place a list is cut at its commas, for core's parsers and the
// front ends' alike.
#include <string>
#include <vector>

#include "nmscope/error.hpp"

namespace nmscope {

std::string trim(const std::string& text);
// The items between commas, as written (untrimmed, empty ones kept): "a,,b " -> {"a", "", "b "}; "" -> {""}.
std::vector<std::string> comma_items(const std::string& text);
// Splits on commas and trims; an empty list or an empty item is a SettingError naming `setting`.
std::vector<std::string> split_list(const std::string& text, Setting setting);

}  // namespace nmscope
