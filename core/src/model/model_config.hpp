#pragma once
// config.json's fields -> ModelConfig, shared by model directories (read_model_config) and the embedded shape presets
// (model_preset.hpp), so a preset is checked exactly like a downloaded config.
#include <nlohmann/json.hpp>
#include <string>

#include "nmscope/model.hpp"

namespace nmscope {

// Throws Error(subject, reason) for a missing or out-of-range field; an unknown model_type gives family Unsupported.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& subject);

}  // namespace nmscope
