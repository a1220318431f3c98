// The embedded shape presets, parsed by the config reader of model directories.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "model/model_config.hpp"
#include "model/model_layout.hpp"
#include "model/model_presets_embedded.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model_preset.hpp"

namespace nmscope {

namespace {

ModelPreset parse_preset(std::string_view file, std::string_view text) {
  const std::string subject = "resources/models/" + std::string(file);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& failure) {
    throw Error(subject, std::string("not valid JSON: ") + failure.what());
  }
  ModelPreset preset;
  preset.name = json.value("name", "");
  if (preset.name + ".json" != file) throw Error(subject, "its \"name\" must equal the file name without .json");
  preset.title = json.value("title", "");
  if (!json.contains("config") || !json["config"].is_object()) throw Error(subject, "lacks the \"config\" object");
  preset.config = parse_model_config(json["config"], subject);
  if (preset.config.family != ModelFamily::Decoder)
    throw Error(subject, "model_type '" + preset.config.model_type + "' is not a modelled decoder");
  const nlohmann::json synthetic = json.value("synthetic", nlohmann::json::object());
  preset.distribution = synthetic.value("dist", "llm");
  preset.seed = synthetic.value("seed", uint64_t{1});
  return preset;
}

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = [] {
    std::vector<ModelPreset> list;
    for (const auto& [file, text] : embedded_model_preset_files()) list.push_back(parse_preset(file, text));
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return list;
  }();
  return presets;
}

const ModelPreset* find_model_preset(const std::string& name) {
  for (const auto& preset : model_presets())
    if (preset.name == name) return &preset;
  return nullptr;
}

std::string model_preset_names() {
  std::string names;
  for (const auto& preset : model_presets()) names += (names.empty() ? "" : ", ") + preset.name;
  return names;
}

std::vector<PresetLayer> preset_linear_layers(const ModelPreset& preset) {
  const model_layout::Layout layout = model_layout::layout_for(preset.config, {});
  std::vector<const model_layout::TensorSpec*> linear;
  for (const auto& spec : layout.block)
    if (spec.role <= LayerRole::Down) linear.push_back(&spec);
  // Forward order inside a block is the role order, as Model::linear_layers() gives it.
  std::stable_sort(linear.begin(), linear.end(), [](const auto* a, const auto* b) { return a->role < b->role; });
  std::vector<PresetLayer> layers;
  for (int64_t block = 0; block < preset.config.blocks; ++block)
    for (const auto* spec : linear)
      layers.push_back({layout.block_prefix + std::to_string(block) + "." + spec->key, spec->shape[0], spec->shape[1]});
  return layers;
}

}  // namespace nmscope
