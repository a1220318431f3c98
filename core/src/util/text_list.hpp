#pragma once
// Comma-separated option lists ("dense,2:4,1:4"), shared by every option parser in core.
#include <string>
#include <vector>

#include "nmscope/error.hpp"

namespace nmscope {

std::string trim(const std::string& text);
// Splits on commas and trims; an empty list or an empty item is a SettingError naming `setting`.
std::vector<std::string> split_list(const std::string& text, Setting setting);

}  // namespace nmscope
