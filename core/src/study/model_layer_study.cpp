// run_model_layer_study: the model opened (directory or preset) and its layers selected before anything runs, then
// the study runner over those layers with time_once_per_shape, then the rollup.
#include "nmscope/model_layer_study.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

std::unique_ptr<Model> open_model(const ModelLayerStudySpec& spec) {
  if (spec.model.empty() == spec.preset.empty())
    throw SettingError(Setting::Model, "give exactly one of --model DIR or --preset NAME");
  if (!spec.preset.empty()) {
    if (!find_model_preset(spec.preset))
      throw SettingError(Setting::Preset, "no preset '" + spec.preset + "' (presets: " + model_preset_names() + ")");
    return Model::preset(spec.preset);
  }
  auto model = Model::open(spec.model);
  if (model->config().family == ModelFamily::Unsupported) throw Error(spec.model, model->note());
  return model;
}

// The selected engines plus every dense baseline of each selected family that has them as other engines (the
// rollup quotes the strongest of them).
std::string engines_with_baselines(const StudySpec& study) {
  const EngineRegistry registry = EngineRegistry::with_options(study.engine_options);
  const std::vector<const Engine*> selected = registry.select(study.engines);
  std::vector<std::string> names;
  for (const Engine* engine : selected) names.push_back(engine->name());
  for (const Engine* engine : selected)
    for (const std::string& baseline : dense_baselines_of(engine->name()))
      if (registry.find(baseline) && std::find(names.begin(), names.end(), baseline) == names.end())
        names.push_back(baseline);
  if (names.empty()) return "none";
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ",") + name;
  return list;
}

}  // namespace

std::vector<ModelLayer> select_model_layers(const Model& model, const std::string& pattern) {
  std::regex expression;
  try {
    expression = std::regex(pattern.empty() ? std::string(".") : pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& failure) {
    throw SettingError(Setting::Layers, "'" + pattern + "' is not a valid regular expression: " + failure.what());
  }
  std::vector<ModelLayer> layers;
  const auto linear = model.linear_layers();
  for (const ModelTensor* tensor : linear) {
    if (!pattern.empty() && !std::regex_search(tensor->info.name, expression)) continue;
    layers.push_back(
        {tensor->info.name, role_name(tensor->role), tensor->block, tensor->info.rows(), tensor->info.cols()});
  }
  if (layers.empty()) {
    throw SettingError(Setting::Layers, "'" + pattern + "' matches none of the " + std::to_string(linear.size()) +
                                            " linear layers (names like " +
                                            (linear.empty() ? std::string("?") : linear.front()->info.name) + ")");
  }
  return layers;
}

ModelLayerPlan plan_model_layer_study(const ModelLayerStudySpec& spec) {
  ModelLayerPlan plan;
  const auto model = open_model(spec);
  plan.model = spec.preset.empty() ? spec.model : spec.preset;
  plan.source = source_identity(model->directory());
  plan.layers = select_model_layers(*model, spec.layers);
  plan.config = model->config();
  plan.all_layers = spec.layers.empty();
  std::set<std::pair<int64_t, int64_t>> shapes;
  for (const auto& layer : plan.layers) shapes.insert({layer.rows, layer.cols});
  plan.distinct_shapes = int64_t(shapes.size());

  plan.study = spec.study;
  plan.study.sources = {model->directory()};
  plan.study.tensors.clear();
  for (const auto& layer : plan.layers) {
    plan.study.tensors.push_back(layer.tensor);
    plan.study.tensor_details[layer.tensor] = nlohmann::json{
        {"model_study", "layers"},
        {"model", plan.model},
        {"role", layer.role},
        {"block", layer.block}}.dump();
  }
  plan.study.engines = engines_with_baselines(plan.study);
  plan.study.time_once_per_shape = true;
  plan.study.validate();
  return plan;
}

namespace {

// The rows of the plan's jobs, from this run (`measured`) and any earlier one in the store: same source and layers,
// a configuration, engine and batch of the plan; of several rows of one key the newest.
std::vector<Measurement> stored_rows_of_plan(const ModelLayerPlan& plan, const ResultsStore& store,
                                             const std::vector<Measurement>& measured) {
  const StudySpec& spec = plan.study;
  std::set<std::string> layers, engines;
  for (const ModelLayer& layer : plan.layers) layers.insert(layer.tensor);
  const std::set<NMPattern> patterns(spec.patterns.begin(), spec.patterns.end());
  const std::vector<const Engine*> selected = EngineRegistry::with_options(spec.engine_options).select(spec.engines);
  for (const Engine* engine : selected) engines.insert(engine->name());
  if (selected.empty()) engines.insert("none");
  const std::set<int> bits(spec.bits.begin(), spec.bits.end());
  const std::set<int> batches(spec.batches.begin(), spec.batches.end());
  std::map<MeasurementKey, Measurement> newest;
  auto take = [&](const Measurement& row) {
    if (row.source != plan.source || !layers.count(row.tensor) || !patterns.count(row.pattern) ||
        !bits.count(row.quant.bits) || !engines.count(row.engine) ||
        row.quant.canonical() != spec.quant_config(row.quant.bits).canonical() ||
        row.criterion != criterion_name(spec.criterion) || (row.engine != "none" && !batches.count(row.batch)))
      return;
    if (row.status != "ok" && row.status != "unavailable" && row.status != "overflow") return;
    newest[MeasurementKey::of(row)] = row;
  };
  for (const Measurement& row : store.all()) take(row);
  for (const Measurement& row : measured) take(row);
  std::vector<Measurement> rows;
  for (auto& [key, row] : newest) rows.push_back(std::move(row));
  return rows;
}

}  // namespace

ModelLayerStudyResult run_model_layer_study(const ModelLayerPlan& plan, ResultsStore* store,
                                            const StudyObserver& observer, const std::atomic<bool>* cancel) {
  ModelLayerStudyResult result;
  result.model = plan.model;
  result.source = plan.source;
  result.layers = plan.layers;
  result.distinct_shapes = plan.distinct_shapes;
  StudyObserver collecting = observer;
  collecting.measured = [&](const Measurement& row) {
    result.rows.push_back(row);
    if (observer.measured) observer.measured(row);
  };
  result.summary = run_study(plan.study, store, collecting, cancel);
  result.study_id = result.summary.study_id;
  if (result.summary.cancelled) return result;
  // A resumed study measured only what was missing: its rollup takes the rows an earlier run stored too.
  std::vector<Measurement> rolled = result.rows;
  if (plan.study.skip_stored && store) rolled = stored_rows_of_plan(plan, *store, result.rows);
  result.rollup = rollup_model_study(result.layers, rolled, result.model);
  if (plan.all_layers) append_whole_model_rows(result.rollup, plan.config);
  if (store && !result.rollup.empty()) store->insert_model_rollup(result.rollup);
  return result;
}

}  // namespace nmscope
