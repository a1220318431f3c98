// run_model_study: the dense reference once, then per configuration compress -> evaluate -> store. All input checks
// (model, token files, options) run before the first configuration, so a bad study stores nothing.
#include "nmscope/model_study.hpp"

#include <algorithm>
#include <chrono>

#include "nmscope/error.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/model_evaluation.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

struct Configuration {
  ModelCompressionSettings settings;
  bool dense_point = false;
};

std::vector<Configuration> configurations(const ModelStudySpec& spec) {
  std::vector<Configuration> list;
  Configuration dense;
  dense.settings.quant = spec.quant;
  dense.settings.quant.bits = 16;
  dense.dense_point = true;
  list.push_back(dense);
  for (const NMPattern& pattern : spec.patterns)
    for (int bits : spec.bits)
      for (ModelCriterion criterion : spec.criteria)
        for (Quantizer quantizer : spec.quantizers) {
          // GPTQ places weights on an integer grid; with fp16 storage it is round-to-nearest's point again.
          const bool fp16_duplicate = bits == 16 && quantizer != Quantizer::RoundToNearest &&
                                      std::find(spec.quantizers.begin(), spec.quantizers.end(),
                                                Quantizer::RoundToNearest) != spec.quantizers.end();
          if (fp16_duplicate) continue;
          Configuration configuration;
          configuration.settings.pattern = pattern;
          configuration.settings.quant = spec.quant;
          configuration.settings.quant.bits = bits;
          configuration.settings.quant.validate();
          configuration.settings.criterion = criterion;
          configuration.settings.quantizer = quantizer;
          list.push_back(configuration);
        }
  return list;
}

}  // namespace

int64_t model_study_configuration_count(const ModelStudySpec& spec) { return int64_t(configurations(spec).size()); }

namespace {

std::vector<Measurement> layer_rows(const Model& model, const CompressedModel& compressed,
                                    const ModelEvaluationRecord& record) {
  std::vector<Measurement> rows;
  for (const ModelTensor* layer : model.linear_layers()) {
    const CompressedLayer& packed_layer = compressed.layers().at(layer->info.name);
    const PackedMatrix& packed = packed_layer.packed;
    const MatrixF weights = model.load(*layer);
    // Per-layer output error on synthetic N(0,1) inputs, as the per-matrix studies report it (docs/conventions.md).
    const OutputReference reference(
        weights, synthetic_activations(kSyntheticEvalTokens, weights.cols(), kSyntheticActivationSeed));
    const AccuracyFigures figures = measure_accuracy(weights, dequantize(packed), reference);
    Measurement row;
    row.study_id = record.study_id;
    row.created_at = record.created_at;
    row.source = source_identity(model.directory());
    row.source_hash = model.source().tensor_hash(layer->info.name);
    row.tensor = layer->info.name;
    describe_configuration(row, packed);
    // The quantizer is part of the configuration: rows of magnitude+rtn and magnitude+gptq must not share a
    // measurement key (resume, merges).
    row.criterion = record.quantizer == "gptq" ? record.criterion + "+gptq" : record.criterion;
    row.engine = "none";
    row.weight_rel_err = figures.weight_rel_err;
    row.output_rel_err = figures.output_rel_err;
    row.sqnr_db = figures.sqnr_db;
    row.note = packed_layer.note;
    row.details_json = std::string("{\"model_study\":true,\"role\":\"") + role_name(layer->role) +
                       "\",\"block\":" + std::to_string(layer->block) + ",\"quantizer\":\"" + record.quantizer + "\"}";
    row.host = record.host;
    row.build = record.build;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

TokenIds builtin_calibration(const Model& model) {
  const int64_t tokens = std::min(kBuiltinCalibrationTokens, model.config().max_positions);
  return builtin_token_ids(model.config().vocab, kBuiltinCalibrationSequences, tokens);
}

std::string run_model_study(const ModelStudySpec& spec, ResultsStore* store,
                            const std::function<void(const ModelEvaluationRecord&)>& on_row,
                            const std::atomic<bool>* cancel, int64_t* already_stored) {
  const auto model = Model::open(spec.model);
  if (!model->note().empty()) throw Error(spec.model, model->note());
  const std::vector<Configuration> list = configurations(spec);
  // A text file is named with its window, so a resumed study matches only the same cut.
  auto token_source = [&](const std::string& path, bool text) {
    return text ? text_windows(*model, path, spec.window, spec.max_windows) : read_token_ids(path);
  };
  auto source_name = [&](const std::string& path, bool text) {
    const std::string count = spec.max_windows > 0 ? "at most " + std::to_string(spec.max_windows) + " " : "";
    return text ? path + " (text, " + count + "windows of " + std::to_string(spec.window) + ")" : path;
  };
  const TokenIds evaluation = token_source(spec.evaluation, spec.evaluation_is_text);
  check_evaluation_tokens(evaluation, *model, spec.evaluation);
  const bool needs_calibration = std::any_of(list.begin(), list.end(), [](const Configuration& configuration) {
    return configuration.settings.needs_calibration();
  });
  TokenIds calibration;
  std::string calibration_name;
  if (needs_calibration) {
    calibration = spec.calibration.empty() ? builtin_calibration(*model)
                                           : token_source(spec.calibration, spec.calibration_is_text);
    calibration_name = spec.calibration.empty() ? "built-in " + std::to_string(calibration.sequences) + "x" +
                                                      std::to_string(calibration.tokens)
                                                : source_name(spec.calibration, spec.calibration_is_text);
    check_token_ids(calibration, *model,
                    spec.calibration.empty() ? setting_name(Setting::Calibration) : spec.calibration);
  }

  // What identifies one configuration's record: the model, the configuration, its calibration and evaluation.
  const auto describe = [&](const Configuration& configuration) {
    const ModelCompressionSettings& settings = configuration.settings;
    ModelEvaluationRecord record;
    record.model = spec.model;
    record.model_type = model->config().model_type;
    record.family = family_name(model->config().family);
    record.pattern = settings.pattern;
    record.quant = settings.quant.canonical();
    record.criterion = configuration.dense_point ? "none" : model_criterion_name(settings.criterion);
    record.quantizer = configuration.dense_point ? "none" : quantizer_name(settings.quantizer);
    record.calibration = settings.needs_calibration() ? calibration_name : "";
    record.evaluation = source_name(spec.evaluation, spec.evaluation_is_text);
    record.eval_sequences = evaluation.sequences;
    record.eval_tokens = evaluation.tokens;
    return record;
  };
  // --resume: the configurations whose record the store holds (model and token files by canonical path).
  std::vector<ModelEvaluationRecord> held;
  if (spec.skip_stored && store) held = store->model_evaluations();
  const auto stored = [&](const ModelEvaluationRecord& wanted) {
    return std::any_of(held.begin(), held.end(), [&](const ModelEvaluationRecord& row) {
      return source_identity(row.model) == source_identity(wanted.model) && row.pattern == wanted.pattern &&
             row.quant == wanted.quant && row.criterion == wanted.criterion && row.quantizer == wanted.quantizer &&
             (row.calibration == wanted.calibration ||
              source_identity(row.calibration) == source_identity(wanted.calibration)) &&
             source_identity(row.evaluation) == source_identity(wanted.evaluation) &&
             row.eval_sequences == wanted.eval_sequences && row.eval_tokens == wanted.eval_tokens;
    });
  };
  std::vector<const Configuration*> to_run;
  for (const Configuration& configuration : list) {
    if (stored(describe(configuration))) {
      if (already_stored) ++*already_stored;
    } else {
      to_run.push_back(&configuration);
    }
  }
  const std::string study_id = new_study_id(), host = host_description(), build = build_description();
  if (to_run.empty()) return study_id;  // nothing left: not even the dense reference is needed

  const DenseReference dense = dense_reference(*model, evaluation, spec.evaluation, cancel);
  for (const Configuration* configuration : to_run) {
    const auto start = std::chrono::steady_clock::now();
    const ModelCompressionSettings& settings = configuration->settings;
    const CompressedModel compressed = compress_model(*model, settings, &calibration, cancel);
    const ModelQuality quality = evaluate_compressed(*model, dense, compressed, cancel);

    ModelEvaluationRecord record = describe(*configuration);
    record.study_id = study_id;
    record.created_at = utc_timestamp();
    record.storage_bytes = compressed.storage_bytes();
    record.weight_count = compressed.weight_count();
    record.bits_per_weight = 8.0 * double(record.storage_bytes) / double(std::max<int64_t>(1, record.weight_count));
    record.dense_perplexity = quality.dense_perplexity;
    record.perplexity = quality.perplexity;
    record.mean_kl = quality.mean_kl;
    record.top1_agreement = quality.top1_agreement;
    record.mean_cosine = quality.mean_cosine;
    std::string fallbacks;
    for (const auto& [name, layer] : compressed.layers())
      if (!layer.note.empty()) fallbacks += (fallbacks.empty() ? "" : "; ") + name + ": " + layer.note;
    record.note = fallbacks;
    record.host = host;
    record.build = build;
    const std::vector<Measurement> layers = layer_rows(*model, compressed, record);
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (store) store->insert_model_evaluation(record, layers);
    if (on_row) on_row(record);
  }
  return study_id;
}

}  // namespace nmscope
