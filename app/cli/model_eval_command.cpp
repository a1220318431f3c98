// nmscope-cli model-eval --model DIR --eval IDS.npy [--pattern LIST --bits LIST --criterion LIST --quantizer LIST ...]:
// the whole model compressed with each configuration and compared with its dense self (decoders: perplexity, KL,
// top-1 agreement; encoders: embedding cosine). One row per configuration, after the dense fp16 point, on stdout
// (JSON Lines with --json) and in the results database with the per-layer rows.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "interrupt_scope.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model_study.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/text_list.hpp"
#include "progress_line.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct ModelEvalOptions {
  std::string model;
  std::string evaluation;
  std::string calibration;
  std::string evaluation_text;
  std::string calibration_text;
  int64_t window = 128;
  int64_t max_windows = 0;
  std::string patterns = "2:4";
  std::string bits = "4";
  int group = 128;
  bool per_channel = false;
  bool per_tensor = false;
  bool asymmetric = false;
  std::string criteria = "magnitude";
  std::string quantizers = "rtn";
  std::string database;
  bool json = false;
  bool resume = false;
  bool quiet = false;  // no progress line
};

std::vector<std::string> split(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  for (const std::string& raw : comma_items(text)) {
    std::string item = trim(raw);
    if (item.empty()) throw UsageError(option, "empty item in '" + text + "'");
    items.push_back(item);
  }
  return items;
}

nlohmann::json figure(double value) { return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value); }

void print_row(const ModelEvaluationRecord& row, bool json) {
  if (json) {
    nlohmann::json line = {{"study_id", row.study_id},
                           {"model", row.model},
                           {"family", row.family},
                           {"pattern", row.pattern.to_string()},
                           {"bits", row.quant.bits},
                           {"granularity", row.quant.granularity_name()},
                           {"criterion", row.criterion},
                           {"quantizer", row.quantizer},
                           {"calibration", row.calibration},
                           {"storage_bytes", row.storage_bytes},
                           {"bits_per_weight", row.bits_per_weight},
                           {"dense_perplexity", figure(row.dense_perplexity)},
                           {"perplexity", figure(row.perplexity)},
                           {"mean_kl", figure(row.mean_kl)},
                           {"top1_agreement", figure(row.top1_agreement)},
                           {"mean_cosine", figure(row.mean_cosine)},
                           {"seconds", row.seconds}};
    if (!row.note.empty()) line["note"] = row.note;
    std::cout << line.dump() << std::endl;
    return;
  }
  std::printf("%-6s %4d %-10s %-5s %8.3f bits/w ", row.pattern.to_string().c_str(), row.quant.bits,
              row.criterion.c_str(), row.quantizer.c_str(), row.bits_per_weight);
  if (row.family == "decoder") {
    std::printf("ppl %10.4f (dense %10.4f)  KL %.5f  top-1 %.4f", row.perplexity, row.dense_perplexity, row.mean_kl,
                row.top1_agreement);
  } else {
    std::printf("cosine %.6f", row.mean_cosine);
  }
  std::printf("  %.2f s%s%s\n", row.seconds, row.note.empty() ? "" : "  note: ", row.note.c_str());
  std::fflush(stdout);
}

int model_eval(const ModelEvalOptions& options) {
  const InterruptScope interrupt;
  ModelStudySpec spec;
  spec.model = options.model;
  spec.evaluation = options.evaluation_text.empty() ? options.evaluation : options.evaluation_text;
  spec.evaluation_is_text = !options.evaluation_text.empty();
  spec.calibration = options.calibration_text.empty() ? options.calibration : options.calibration_text;
  spec.calibration_is_text = !options.calibration_text.empty();
  spec.window = options.window;
  spec.max_windows = options.max_windows;
  spec.patterns = NMPattern::parse_list(options.patterns);
  spec.bits = QuantConfig::parse_bits_list(options.bits);
  spec.quant.group = options.group;
  spec.quant.granularity = options.per_tensor    ? Granularity::Tensor
                           : options.per_channel ? Granularity::Channel
                                                 : Granularity::Group;
  spec.quant.symmetric = !options.asymmetric;
  spec.criteria.clear();
  for (const auto& name : split(options.criteria, "--criterion")) spec.criteria.push_back(parse_model_criterion(name));
  spec.quantizers.clear();
  for (const auto& name : split(options.quantizers, "--quantizer")) spec.quantizers.push_back(parse_quantizer(name));
  spec.skip_stored = options.resume;
  ResultsStore store(options.database.empty() ? ResultsStore::default_path() : options.database);
  warn_if_damaged(store);
  int64_t stored = 0, already_stored = 0;
  // The dense fp16 point, then every (pattern, bits, criterion, quantizer), as run_model_study orders them.
  const int64_t total = model_study_configuration_count(spec);
  ProgressLine progress(options.quiet || options.json);
  progress.update(0, total, "dense reference of " + options.model);
  try {
    run_model_study(
        spec, &store,
        [&](const ModelEvaluationRecord& row) {
          ++stored;
          progress.clear();
          print_row(row, options.json);
          progress.update(stored, total,
                          "after " + row.pattern.to_string() + " " + std::to_string(row.quant.bits) + "-bit " +
                              row.criterion + " " + row.quantizer);
        },
        interrupt.flag(), &already_stored);
    progress.clear();
    if (!options.json && options.resume)
      std::cerr << stored << " configurations measured, " << already_stored << " were already stored in "
                << store.path() << "\n";
  } catch (const Cancelled&) {
    progress.clear();
    // Each configuration is stored in one transaction with its layer rows: the ones before the interrupt are whole.
    print_error("cancelled; " + std::to_string(stored) + " configurations stored in " + store.path());
    return kInterruptedExit;
  }
  return 0;
}

}  // namespace

Command add_model_eval_command(CLI::App& app) {
  auto options = std::make_shared<ModelEvalOptions>();
  CLI::App* command = app.add_subcommand(
      "model-eval",
      "Compress a whole model per configuration and compare it with the dense model on token ids or text");
  command
      ->add_option("--model", options->model,
                   "A Hugging Face model directory (config.json + safetensors) or a llama.cpp model.gguf")
      ->required();
  auto* eval_ids = command->add_option("--eval", options->evaluation, "Evaluation token ids .npy [sequences, tokens]");
  auto* eval_text = command->add_option("--eval-text", options->evaluation_text,
                                        "Evaluation text file, tokenized with the model's own tokenizer into windows");
  eval_ids->excludes(eval_text);
  auto* calib_ids = command->add_option("--calib", options->calibration,
                                        "Calibration token ids .npy (wanda, sparsegpt, gptq; default: built-in set)");
  auto* calib_text =
      command->add_option("--calib-text", options->calibration_text, "Calibration text file, cut like --eval-text");
  calib_ids->excludes(calib_text);
  command->add_option("--window", options->window, "Tokens per window of a text file")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  command
      ->add_option("--windows", options->max_windows,
                   "At most this many windows from the start of a text file (default: every whole window)")
      ->check(CLI::PositiveNumber);
  command->callback([eval_ids, eval_text] {
    if (eval_ids->count() + eval_text->count() == 0) throw CLI::RequiredError("--eval or --eval-text");
  });
  command->add_flag("--quiet", options->quiet, "No progress line on stderr (it is shown only on a terminal)");
  command->add_flag("--resume", options->resume,
                    "Evaluate only the configurations the database does not hold yet (same model, configuration, "
                    "calibration and evaluation files)");
  command->add_option("--pattern", options->patterns, "N:M patterns, e.g. 2:4,4:8")->capture_default_str();
  command->add_option("--bits", options->bits, "Bit widths 2..8, or 16 for fp16")->capture_default_str();
  command->add_option("--group", options->group, "Quantization group size along K")->capture_default_str();
  auto* channel = command->add_flag("--per-channel", options->per_channel, "One scale per output channel");
  auto* tensor = command->add_flag("--per-tensor", options->per_tensor, "One scale per tensor");
  channel->excludes(tensor);
  command->add_flag("--asym", options->asymmetric, "Asymmetric quantization (scale and zero point)");
  command->add_option("--criterion", options->criteria, "magnitude, wanda, sparsegpt (comma-separated)")
      ->capture_default_str();
  command->add_option("--quantizer", options->quantizers, "rtn, gptq (comma-separated)")->capture_default_str();
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_flag("--json", options->json, "One JSON object per configuration per line on stdout");
  return {command, [options] { return model_eval(*options); }};
}

}  // namespace nmscope::cli
