#pragma once
// The text of resources/models/*.json, compiled in by core/CMakeLists.txt (model_presets_embedded.cpp.in), so the
// presets need no file lookup at run time from a build tree or an installed binary.
#include <string_view>
#include <utility>
#include <vector>

namespace nmscope {

// (file name, JSON text) per preset file.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_model_preset_files();

}  // namespace nmscope
