#pragma once
// Shape presets: well-known models (resources/models/*.json, compiled into the library so any binary finds them) as
// their config.json fields plus a synthetic LLM-like weight generator with a fixed seed, for studies when no weights
// are at hand. Their linear layers are the synthetic source "synth:<name>" (synthetic.hpp), named as the family's
// checkpoints name them ("model.layers.3.mlp.down_proj.weight").
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/model.hpp"

namespace nmscope {

struct ModelPreset {
  std::string name;   // "llama-7b": the file name without .json
  std::string title;  // where the shapes come from
  ModelConfig config;
  std::string distribution = "llm";  // of the synthetic weights
  uint64_t seed = 1;

  std::string synth_spec() const { return "synth:" + name; }
};

struct PresetLayer {
  std::string name;
  int64_t rows = 0;  // N_out
  int64_t cols = 0;  // K
};

// Every embedded preset, sorted by name. The files are checked by the same config reader as model directories the
// first time this is called; a malformed file is a build defect and throws Error(file, reason).
const std::vector<ModelPreset>& model_presets();
const ModelPreset* find_model_preset(const std::string& name);
// "llama-2-13b, llama-3-8b, llama-7b, ..." for error messages and --help.
std::string model_preset_names();
// The compressible linear layers (q/k/v/o, gate/up/down) block by block, in forward order.
std::vector<PresetLayer> preset_linear_layers(const ModelPreset& preset);

}  // namespace nmscope
