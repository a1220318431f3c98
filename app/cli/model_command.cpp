// nmscope-cli model: every linear layer of a model directory or shape preset x configurations x engines x batches,
// each distinct shape timed once; prints the rollup per configuration and engine (and per layer role), stores the
// per-layer rows and the rollup in the results database.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "interrupt_scope.hpp"
#include "measurement_json.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model_layer_study.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/units.hpp"
#include "progress_line.hpp"
#include "study_options.hpp"
#include "synthetic_notes.hpp"

namespace nmscope::cli {

namespace {

struct ModelOptions {
  std::string model;
  std::string preset;
  std::string layers;
  StudyOptions study;
  std::string database;
  bool quiet = false;  // no progress line
  bool resume = false;
  bool json = false;
  int threads = 0;
};

nlohmann::json number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr); }

nlohmann::json rollup_to_json(const ModelRollupRow& r) {
  return {{"pattern", r.pattern.to_string()},
          {"bits", r.quant.bits},
          {"granularity", r.quant.granularity_name()},
          {"symmetric", r.quant.symmetric},
          {"criterion", r.criterion},
          {"engine", r.engine},
          {"batch", r.batch > 0 ? nlohmann::json(r.batch) : nlohmann::json(nullptr)},
          {"role", r.role},
          {"layers", r.layers},
          {"weight_count", r.weight_count},
          {"storage_bytes", r.storage_bytes},
          {"fp16_bytes", r.fp16_bytes},
          {"compression_vs_fp16", number(r.compression_vs_fp16)},
          {"mean_weight_rel_err", number(r.mean_weight_rel_err)},
          {"max_weight_rel_err", number(r.max_weight_rel_err)},
          {"mean_output_rel_err", number(r.mean_output_rel_err)},
          {"max_output_rel_err", number(r.max_output_rel_err)},
          {"min_sqnr_db", number(r.min_sqnr_db)},
          {"time_us", number(r.time_us)},
          {"time_per_token_us", number(r.time_per_token_us)},
          {"baseline", r.baseline.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.baseline)},
          {"baseline_time_per_token_us", number(r.baseline_time_per_token_us)},
          {"speedup", number(r.speedup)},
          {"shapes_timed", r.shapes_timed},
          {"layers_timed", r.layers_timed},
          {"note", r.note}};
}

std::string config_label(const ModelRollupRow& r) {
  std::string label = r.pattern.to_string() + " " + r.quant.bits_name();
  if (!r.quant.is_fp16()) label += " " + r.quant.granularity_name() + (r.quant.symmetric ? "" : " asym");
  if (!r.pattern.is_dense()) label += " " + r.criterion;
  return label;
}

std::string figure(double value, const char* format) {
  if (!std::isfinite(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

void print_table(const std::vector<ModelRollupRow>& rollup, bool by_role) {
  std::printf("%-30s %-22s %5s %-9s %6s %11s %7s %9s %9s %9s %9s %12s %8s  %s\n", "configuration", "engine", "batch",
              "role", "layers", "storage", "vs_fp16", "w_err_avg", "w_err_max", "y_err_avg", "y_err_max", "per_token",
              "speedup", "baseline");
  for (const ModelRollupRow& r : rollup) {
    const bool whole = r.role == "all" || r.role == kWholeModelRole;  // the linear layers, and the whole model
    if (whole == by_role) continue;
    std::printf("%-30.30s %-22.22s %5s %-9s %6lld %11s %6.2fx %9.3e %9.3e %9.3e %9.3e %12s %8s  %s\n",
                config_label(r).c_str(), r.engine.c_str(), r.batch > 0 ? std::to_string(r.batch).c_str() : "-",
                r.role.c_str(), static_cast<long long>(r.layers),
                format_bytes(std::uint64_t(std::max<int64_t>(0, r.storage_bytes))).c_str(), r.compression_vs_fp16,
                r.mean_weight_rel_err, r.max_weight_rel_err, r.mean_output_rel_err, r.max_output_rel_err,
                std::isnan(r.time_per_token_us) ? "-" : format_microseconds(r.time_per_token_us).c_str(),
                figure(r.speedup, "%.2fx").c_str(), r.baseline.c_str());
    if (!r.note.empty() && !by_role) std::printf("    note: %s\n", r.note.c_str());
  }
}

int run(const ModelOptions& options) {
  ModelLayerStudySpec spec;
  spec.model = options.model;
  spec.preset = options.preset;
  spec.layers = options.layers;
  spec.study = make_study_spec(options.study);
  spec.study.skip_stored = options.resume;
  std::unique_ptr<tbb::global_control> thread_limit;
  if (options.threads > 0)
    thread_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, options.threads);

  ProgressLine progress(options.quiet || options.json);
  StudyObserver observer;
  observer.skipped = [&](const Error& error) {
    progress.clear();
    print_error(error.what());
  };
  observer.progress = progress.study_callback();
  // The model, the preset and the layer filter are checked before the database is opened: bad input leaves it
  // untouched.
  const ModelLayerPlan plan = plan_model_layer_study(spec);
  const auto store = std::make_unique<ResultsStore>(options.database.empty() ? ResultsStore::default_path()
                                                                              : options.database);
  warn_if_damaged(*store);
  std::optional<InterruptScope> interrupt(std::in_place);
  const ModelLayerStudyResult result = run_model_layer_study(plan, store.get(), observer, interrupt->flag());
  interrupt.reset();
  if (result.summary.cancelled) {
    print_error("cancelled; " + std::to_string(result.summary.measurements) + " layer rows stored in " + store->path() +
                ", no rollup");
    return kInterruptedExit;
  }
  const bool timed = result.summary.shapes_timed > 0;
  const std::string timing_line =
      timed ? std::to_string(result.summary.shapes_timed) + " shapes timed for " + std::to_string(result.layers.size()) +
                  " layers (" + std::to_string(result.summary.timings_reused) + " engine rows reuse a timing of the same shape)"
            : "no engine timed (accuracy and storage only)";
  if (options.json) {
    nlohmann::json out = {{"model", result.model},
                          {"source", result.source},
                          {"study_id", result.study_id},
                          {"database", store->path()},
                          {"layers", result.layers.size()},
                          {"distinct_shapes", result.distinct_shapes},
                          {"shapes_timed", result.summary.shapes_timed},
                          {"timings_reused", result.summary.timings_reused},
                          {"skipped", result.summary.skipped}};
    if (const std::string note = synthetic_weights_note(result.source); !note.empty()) out["synthetic_weights"] = note;
    out["rollup"] = nlohmann::json::array();
    for (const auto& row : result.rollup) out["rollup"].push_back(rollup_to_json(row));
    out["layer_rows"] = nlohmann::json::array();
    for (const auto& row : result.rows) out["layer_rows"].push_back(measurement_to_json(row));
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("model %s (%s): %zu linear layers, %lld distinct shapes; %s\n", result.model.c_str(),
                result.source.c_str(), result.layers.size(), static_cast<long long>(result.distinct_shapes),
                timing_line.c_str());
    print_table(result.rollup, false);
    std::printf("\nby layer role:\n");
    print_table(result.rollup, true);
    print_synthetic_notes({result.source});
    std::cerr << result.rows.size() << " layer rows and " << result.rollup.size() << " rollup rows stored in "
              << store->path() << " (study " << result.study_id << ")\n";
  }
  return result.summary.skipped > 0 ? 1 : 0;
}

}  // namespace

Command add_model_command(CLI::App& app) {
  auto options = std::make_shared<ModelOptions>();
  CLI::App* command = app.add_subcommand(
      "model", "Study every linear layer of a model: per-layer accuracy, storage and per-token time, rolled up");
  auto* model =
      command->add_option("--model", options->model,
                          "A Hugging Face model directory (config.json + safetensors) or a llama.cpp model.gguf");
  auto* preset = command->add_option("--preset", options->preset,
                                     "A shape preset with synthetic LLM-like weights: " + model_preset_names());
  model->excludes(preset);
  command->add_option("--layers", options->layers,
                      "Regular expression (ECMAScript) on layer names, e.g. 'layers\\.0\\.' or 'mlp' (default: all)");
  add_study_options(*command, options->study);
  options->study.engines = "none";
  command->get_option("--engines")->default_str("none");
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_flag("--json", options->json, "The rollup and the per-layer rows as one JSON object on stdout");
  command->add_flag("--quiet", options->quiet, "No progress line on stderr (it is shown only on a terminal)");
  command->add_flag("--resume", options->resume,
                    "Measure only the layer rows the database does not hold yet, then roll up all of them (an "
                    "interrupted study completed)");
  command->add_option("--threads", options->threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  return {command, [options] { return run(*options); }};
}

}  // namespace nmscope::cli
