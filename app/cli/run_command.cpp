// nmscope-cli run: prune, quantize, pack and measure a cross product of configurations; every measurement is
// stored in the results database as it is made and printed (as JSON Lines with --json).
#include <tbb/global_control.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "measurement_json.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"

namespace nmscope::cli {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted.store(true); }

struct RunOptions {
  std::vector<std::string> weights;
  std::vector<std::string> tensors;
  std::string patterns = "2:4";
  std::string bits = "4";
  int group = 128;
  bool per_channel = false;
  bool per_tensor = false;
  bool asymmetric = false;
  std::string criterion = "magnitude";
  std::string activations;
  std::string engines = "cpu";
  std::string batches = "1";
  std::string database;
  bool json = false;
  bool resume = false;
  int threads = 0;
  double timing_seconds = 0.3;
  std::string arrays;          // empty: the registry's default FPGA arrays
  double fpga_clock_mhz = fpga::kDefaultClockMhz;
};

std::vector<int> parse_batches(const std::string& list) {
  std::vector<int> batches;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty())
      throw Error("--batch", "'" + item + "' is not a whole number");
    batches.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return batches;
}

StudySpec make_spec(const RunOptions& options) {
  StudySpec spec;
  spec.sources = options.weights;
  spec.tensors = options.tensors;
  spec.patterns = NMPattern::parse_list(options.patterns);
  spec.bits = QuantConfig::parse_bits_list(options.bits);
  spec.granularity = options.per_tensor ? Granularity::Tensor : options.per_channel ? Granularity::Channel : Granularity::Group;
  spec.group = options.group;
  spec.symmetric = !options.asymmetric;
  spec.criterion = parse_criterion(options.criterion);
  spec.activations_path = options.activations;
  spec.engines = options.engines;
  spec.batches = parse_batches(options.batches);
  if (!(options.timing_seconds > 0 && options.timing_seconds <= 60))
    throw Error("--timing-seconds", "must be in (0, 60]");
  spec.timing.target_seconds = options.timing_seconds;
  spec.skip_stored = options.resume;
  if (!options.arrays.empty()) spec.engine_options.fpga_arrays = fpga::parse_array_sizes(options.arrays);
  spec.engine_options.fpga_clock_mhz = options.fpga_clock_mhz;
  return spec;
}

std::string format_row(const Measurement& m) {
  char line[512];
  std::string time = m.time_us ? std::to_string(*m.time_us) : (m.status == "ok" ? "-" : m.status);
  std::snprintf(line, sizeof line, "%-40.40s %-6s %4s %-11s %-22s %5s %12lld %6.2fx %9.3e %9.3e %7.2f %12s",
                m.tensor.c_str(), m.pattern.c_str(), m.bits == 16 ? "fp16" : ("int" + std::to_string(m.bits)).c_str(),
                m.granularity.c_str(), m.engine.c_str(), m.batch > 0 ? std::to_string(m.batch).c_str() : "-",
                static_cast<long long>(m.storage_bytes), m.compression_vs_fp16, m.weight_rel_err, m.output_rel_err,
                m.sqnr_db, time.c_str());
  return line;
}

int run(const RunOptions& options) {
  const StudySpec spec = make_spec(options);
  spec.validate();
  std::unique_ptr<tbb::global_control> thread_limit;
  if (options.threads > 0)
    thread_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, options.threads);
  ResultsStore store(options.database.empty() ? ResultsStore::default_path() : options.database);

  const bool show_progress = !options.json && isatty(STDERR_FILENO);
  if (!options.json) {
    std::printf("%-40s %-6s %4s %-11s %-22s %5s %12s %7s %9s %9s %7s %12s\n", "tensor", "N:M", "bits", "granularity",
                "engine", "batch", "storage_B", "vs_fp16", "w_relerr", "y_relerr", "sqnr_dB", "time_us");
  }
  StudyObserver observer;
  observer.measured = [&](const Measurement& m) {
    if (options.json) std::cout << measurement_to_json(m).dump() << std::endl;
    else std::cout << format_row(m) << std::endl;
  };
  observer.skipped = [](const Error& error) { print_error(error.what()); };
  if (show_progress) {
    observer.progress = [](const StudyProgress& progress) {
      std::fprintf(stderr, "\r[%lld/%lld] %-70.70s", static_cast<long long>(progress.done),
                   static_cast<long long>(progress.total), progress.current.c_str());
      if (progress.current.empty()) std::fprintf(stderr, "\n");
    };
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const StudySummary summary = run_study(spec, &store, observer, &interrupted);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (summary.cancelled) {
    print_error("cancelled; " + std::to_string(summary.measurements) + " measurements stored in " + store.path());
    return 130;
  }
  if (!options.json) {
    std::cerr << summary.measurements << " measurements stored in " << store.path() << " (study " << summary.study_id << ")";
    if (options.resume) std::cerr << "; " << summary.already_stored << " were already stored";
    std::cerr << "\n";
  }
  return summary.skipped > 0 ? 1 : 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Prune, quantize and measure a cross product of configurations");
  command->add_option("--weights", options->weights, "A .npy, .safetensors, .gguf, model directory or synth:SHAPE (repeatable)")
      ->required();
  command->add_option("--tensor", options->tensors, "Tensor name (repeatable; default every 2-D tensor)");
  command->add_option("--pattern", options->patterns, "N:M patterns, e.g. dense,2:4,1:4,4:8")->capture_default_str();
  command->add_option("--bits", options->bits, "Bit widths 2..8, or 16 for fp16, e.g. 16,8,4")->capture_default_str();
  auto* group = command->add_option("--group", options->group, "Quantization group size along K")->capture_default_str();
  auto* channel = command->add_flag("--per-channel", options->per_channel, "One scale per output channel");
  auto* tensor = command->add_flag("--per-tensor", options->per_tensor, "One scale per tensor");
  group->excludes(channel)->excludes(tensor);
  channel->excludes(tensor);
  command->add_flag("--asym", options->asymmetric, "Asymmetric quantization (scale and zero point)");
  command->add_option("--criterion", options->criterion, "Pruning criterion: magnitude or wanda")->capture_default_str();
  command->add_option("--activations", options->activations, "Calibration activations .npy [tokens, K] (wanda, output error)");
  command->add_option("--engines", options->engines, "Engine variants or families, comma-separated, or none")->capture_default_str();
  command->add_option("--batch", options->batches, "Batch sizes, comma-separated")->capture_default_str();
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_flag("--json", options->json, "One JSON object per measurement per line on stdout");
  command->add_flag("--resume", options->resume,
                    "Measure only what the database does not hold yet (same source, content, configuration, engine "
                    "and batch with status ok or unavailable); failed measurements are retried");
  command->add_option("--threads", options->threads, "Worker threads (default: all cores)");
  command->add_option("--timing-seconds", options->timing_seconds, "Time budget per timed measurement")->capture_default_str();
  command->add_option("--array", options->arrays, "FPGA systolic array sizes ROWSxCOLS, e.g. 16x16,32x32 (default both)");
  command->add_option("--fpga-clock-mhz", options->fpga_clock_mhz, "FPGA clock for time = cycles / clock")
      ->capture_default_str();
  return {command, [options] { return run(*options); }};
}

}  // namespace nmscope::cli
