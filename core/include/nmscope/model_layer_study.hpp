#pragma once
// A model study over every linear layer of a model (nmscope-cli model): a Hugging Face directory (Model::open) or a
// shape preset (Model::preset), its q/k/v/o and gate/up/down layers (embeddings and head excluded) x configurations x
// engines x batches. It is the study runner (study.hpp) with each distinct shape timed once per (configuration,
// engine, batch), accuracy and storage measured on every layer, and the rollup (model_rollup.hpp) stored after the
// per-layer rows.
#include <atomic>
#include <string>
#include <vector>

#include "nmscope/model.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/study.hpp"

namespace nmscope {

struct ModelLayerStudySpec {
  std::string model;   // a model directory, or
  std::string preset;  // a shape preset name (model_preset.hpp)
  std::string layers;  // ECMAScript regular expression searched in each layer's tensor name; empty: every layer
  // Configurations, engines, batches and timing. Its sources and tensors are filled from the model; the dense
  // baselines of the selected engine families (cpu/eigen-fp32-dense, gpu/cublas-fp16-dense) are added when missing.
  StudySpec study;
};

// A checked study, ready to run: the model opened, its layers selected, the runner's spec filled.
struct ModelLayerPlan {
  std::string model;   // as the user named it: the directory or the preset name
  std::string source;  // the per-layer rows' source (the directory, or the preset's synth: spec)
  std::vector<ModelLayer> layers;
  int64_t distinct_shapes = 0;
  StudySpec study;     // sources, tensors, per-tensor details, engines with baselines, time_once_per_shape
  ModelConfig config;  // the model's configuration (the whole-model rows of a decoder)
  bool all_layers = true;  // no --layers filter: the rollup can add the whole model
};

struct ModelLayerStudyResult {
  std::string study_id;
  std::string model;
  std::string source;
  std::vector<ModelLayer> layers;
  int64_t distinct_shapes = 0;
  StudySummary summary;
  std::vector<Measurement> rows;
  std::vector<ModelRollupRow> rollup;
};

// The model's linear layers whose tensor name matches `pattern` (regex_search). Throws SettingError(Setting::Layers,
// reason) when the expression is invalid or matches none of them.
std::vector<ModelLayer> select_model_layers(const Model& model, const std::string& pattern);

// Opens the model and selects its layers. Throws Error when the model, the preset, the layer filter or the options
// are bad, before anything is measured or stored (a front end plans before it opens the database).
ModelLayerPlan plan_model_layer_study(const ModelLayerStudySpec& spec);

// Runs a plan: the per-layer rows are stored as they are measured (study.hpp), the rollup in one transaction at the
// end; a cancelled study stores no rollup.
ModelLayerStudyResult run_model_layer_study(const ModelLayerPlan& plan, ResultsStore* store,
                                            const StudyObserver& observer, const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
