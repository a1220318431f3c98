// nmscope-cli bench: every engine variant and its baseline on the same layers in one run, with the machine's read
// bandwidth measured beside them. Prints median µs, GB/s of packed weights, the fraction of the byte floor, and the
// speedup over the named baseline measured in the same run; every row also goes to the results database.
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "fpga_cycles_table.hpp"
#include "interrupt_scope.hpp"
#include "measurement_json.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/interleaved_speedup.hpp"
#include "nmscope/memory_bandwidth.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/text_list.hpp"
#include "progress_line.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct BenchOptions {
  std::string engines = "cpu";
  std::string shapes = "4096x4096,11008x4096,4096x11008";
  std::string batches = "1,16,128";
  std::string patterns = "dense,2:4";
  std::string bits = "4";
  std::string database;
  bool quiet = false;  // no progress line
  bool json = false;
  int threads = 0;
  double timing_seconds = 0.5;
  int group = 128;
  bool per_channel = false;
  std::string arrays;          // empty: the registry's default FPGA arrays
  double fpga_clock_mhz = fpga::kDefaultClockMhz;
  std::string fpga_memory = fpga::default_memory_system().name;
};

std::vector<int> parse_ints(const std::string& list, const std::string& option) {
  std::vector<int> values;
  for (const std::string& item : comma_items(list)) {
    try {
      size_t used = 0;
      values.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError(option, "'" + item + "' is not a whole number");
    }
  }
  return values;
}

// The engine a variant's speedup is quoted against; empty for a variant compared with its own dense configuration
// (the FPGA array: the cycles table below).
std::string baseline_of(const std::string& engine) {
  return baseline_is_dense_configuration(engine) ? std::string() : dense_baseline_engine(engine);
}

int64_t weight_bytes_of(const Measurement& row) {
  const auto details = nlohmann::json::parse(row.details_json, nullptr, false);
  if (details.is_object() && details.contains("weight_bytes")) return details["weight_bytes"].get<int64_t>();
  return row.storage_bytes;
}

int bench(const BenchOptions& options) {
  // From the start: a Ctrl-C while the layers are made cancels the study before its first measurement.
  const InterruptScope interrupt;
  StudySpec spec;
  std::string synth = "synth:";
  for (const std::string& shape : comma_items(options.shapes)) {
    // Checked here, as usage, before any database is opened or bandwidth measured.
    const size_t cross = shape.find('x');
    // One 'x' between two numbers: "64x64x64" is a shape of the wrong kind, not a number that failed to parse.
    if (cross == std::string::npos || shape.find('x', cross + 1) != std::string::npos)
      throw UsageError("--shapes", "'" + shape + "' is not N_outxK (two numbers joined by one x, e.g. 4096x11008)");
    const std::vector<int> dims = cross == std::string::npos ? std::vector<int>{}
                                                             : std::vector<int>{parse_ints(shape.substr(0, cross), "--shapes")[0],
                                                                                parse_ints(shape.substr(cross + 1), "--shapes")[0]};
    if (dims.size() != 2 || dims[0] <= 0 || dims[1] <= 0 || dims[0] > (1 << 20) || dims[1] > (1 << 20))
      throw UsageError("--shapes", "'" + shape + "' is not N_outxK with both in 1..1048576");
    synth += (synth.size() > 6 ? "+" : "") + shape;
  }
  spec.sources = {synth + ":dist=llm:seed=1"};
  spec.patterns = NMPattern::parse_list(options.patterns);
  spec.bits = QuantConfig::parse_bits_list(options.bits);
  spec.granularity = options.per_channel ? Granularity::Channel : Granularity::Group;
  spec.group = options.group;
  spec.engines = options.engines;
  spec.batches = parse_ints(options.batches, "--batch");
  if (!(options.timing_seconds > 0 && options.timing_seconds <= 60))
    throw UsageError("--timing-seconds", "must be in (0, 60]");
  spec.timing.target_seconds = options.timing_seconds;
  if (!options.arrays.empty()) spec.engine_options.fpga_arrays = fpga::parse_array_sizes(options.arrays);
  spec.engine_options.fpga_clock_mhz = options.fpga_clock_mhz;
  spec.engine_options.fpga_memory = fpga::parse_memory_system(options.fpga_memory);
  const EngineRegistry registry = EngineRegistry::with_options(spec.engine_options);
  // The baselines are part of every bench: a narrowed list ("cpu/int4-2:4") gets its baseline added.
  std::vector<std::string> names;
  for (const Engine* engine : registry.select(options.engines)) names.push_back(engine->name());
  for (size_t index = 0, selected = names.size(); index < selected; ++index) {
    std::vector<std::string> baselines = further_baselines_of(names[index]);
    baselines.insert(baselines.begin(), baseline_of(names[index]));
    for (const auto& baseline : baselines)
      if (!baseline.empty() && registry.find(baseline) &&
          std::find(names.begin(), names.end(), baseline) == names.end())
        names.push_back(baseline);
  }
  // An FPGA variant's baseline is its own dense configuration: cycles are compared on the same array.
  const bool has_fpga = std::any_of(names.begin(), names.end(),
                                    [](const std::string& name) { return baseline_is_dense_configuration(name); });
  if (has_fpga && std::none_of(spec.patterns.begin(), spec.patterns.end(), [](const NMPattern& p) { return p.is_dense(); }))
    spec.patterns.insert(spec.patterns.begin(), NMPattern{});
  spec.engines.clear();
  for (const auto& name : names) spec.engines += (spec.engines.empty() ? "" : ",") + name;
  if (spec.engines.empty()) throw UsageError("--engines", "bench needs at least one engine");
  spec.validate();

  std::unique_ptr<tbb::global_control> thread_limit;
  if (options.threads > 0)
    thread_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, options.threads);
  ResultsStore store(options.database.empty() ? ResultsStore::default_path() : options.database);
  warn_if_damaged(store);

  std::cerr << "measuring memory read bandwidth...\n";
  const BandwidthFigures bandwidth = measure_read_bandwidth();
  // gpu/ rows take their byte floor from the GPU's own memory.
  double gpu_gb_per_s = 0;
  for (const auto& name : names)
    if (is_engine_of(EngineFamily::Gpu, name)) {
      gpu_gb_per_s = measure_gpu_bandwidth_gb_per_s();
      break;
    }
  std::vector<Measurement> rows;
  StudyObserver observer;
  observer.measured = [&](const Measurement& row) { rows.push_back(row); };
  ProgressLine progress(options.quiet || options.json);
  observer.skipped = [&](const Error& error) {
    progress.clear();
    print_error(error.what());
  };
  observer.progress = progress.study_callback();
  const StudySummary summary = run_study(spec, &store, observer, interrupt.flag());
  progress.clear();
  if (summary.cancelled) {
    print_error("cancelled; " + std::to_string(summary.measurements) + " measurements stored in " + store.path());
    return kInterruptedExit;
  }

  // Baseline time per (tensor, config, batch), from this very run.
  std::map<std::string, double> baseline_us;
  auto key_of = [](const Measurement& row, const std::string& engine) {
    return row.tensor + "|" + row.pattern.to_string() + "|" + std::to_string(row.quant.bits) + "|" +
           std::to_string(row.batch) + "|" + engine;
  };
  for (const auto& row : rows)
    if (row.time_us) baseline_us[key_of(row, row.engine)] = *row.time_us;

  if (!options.json) {
    std::printf("machine: %s\nbuild: %s\ndate: %s\nmemory read bandwidth: %.1f GB/s (%d threads, %.0f MiB buffer)\n\n",
                host_description().c_str(), build_description().c_str(), utc_timestamp().c_str(),
                bandwidth.read_gb_per_s, bandwidth.threads, bandwidth.buffer_mb);
    if (gpu_gb_per_s > 0)
      std::printf("GPU memory bandwidth: %.1f GB/s (1 GiB device-to-device copy, read + write): gpu/ rows' floor\n\n",
                  gpu_gb_per_s);
    std::printf("%-14s %-6s %-5s %-5s %-24s %11s %9s %10s %8s %10s %s\n", "shape", "N:M", "bits", "batch", "engine",
                "median_us", "GB/s", "floor_us", "%floor", "speedup", "vs");
  }
  for (const auto& row : rows) {
    // FPGA rows are cycles at a clock, not timed bytes: they get their own table below.
    if (!options.json && family_counts_cycles(row.engine)) continue;
    const double bytes = double(weight_bytes_of(row));
    const double time = row.time_us.value_or(NAN);
    const double gbps = bytes / (time * 1e3);
    const bool on_gpu = is_engine_of(EngineFamily::Gpu, row.engine) && gpu_gb_per_s > 0;
    const double floor_us = bytes / ((on_gpu ? gpu_gb_per_s : bandwidth.read_gb_per_s) * 1e3);
    const std::string baseline = baseline_of(row.engine);
    const auto found = baseline_us.find(key_of(row, baseline));
    // Timed round by round with its baseline: that ratio and its spread; else the ratio of the two medians.
    const std::optional<RatioStats> ratio = interleaved_speedup(row, baseline);
    const double speedup = ratio ? ratio->median : found != baseline_us.end() ? found->second / time : NAN;
    // The fastest dense library timed for the same layer, configuration and batch: what a user would run instead.
    const auto strongest =
        strongest_dense_baseline(row.engine, [&](const std::string& engine) -> std::optional<double> {
          const auto timed = baseline_us.find(key_of(row, engine));
          return timed == baseline_us.end() ? std::nullopt : std::optional<double>(timed->second);
        });
    if (options.json) {
      auto object = measurement_to_json(row);
      object["gb_per_s"] = std::isfinite(gbps) ? nlohmann::json(gbps) : nlohmann::json(nullptr);
      object["floor_us"] = floor_us;
      object["memory_bandwidth_gb_per_s"] = on_gpu ? gpu_gb_per_s : bandwidth.read_gb_per_s;
      if (std::isfinite(speedup)) {
        object["speedup"] = speedup;
        object["baseline"] = baseline;
      }
      if (ratio) {
        object["speedup_p10"] = ratio->p10;
        object["speedup_p90"] = ratio->p90;
        object["speedup_rounds"] = ratio->rounds;
      }
      for (const auto& extra : further_baselines_of(row.engine)) {
        const auto other = baseline_us.find(key_of(row, extra));
        if (other != baseline_us.end() && std::isfinite(time)) object["speedups"][extra] = other->second / time;
      }
      if (strongest && std::isfinite(time)) {
        object["strongest_dense_baseline"] = strongest->engine;
        object["speedup_vs_strongest_dense"] = strongest->time_us / time;
      }
      std::cout << object.dump() << "\n";
    } else if (row.status != "ok") {
      // An unavailable or failed variant says why instead of printing empty figures.
      std::printf("%-14s %-6s %-5s %-5d %-24s %s: %s\n",
                  (std::to_string(row.rows) + "x" + std::to_string(row.cols)).c_str(), row.pattern.to_string().c_str(),
                  row.quant.bits_name().c_str(), row.batch, row.engine.c_str(), row.status.c_str(), row.note.c_str());
    } else {
      std::string extra_text;
      if (ratio) {
        char buffer[64];
        std::snprintf(buffer, sizeof(buffer), " (p10-p90 %.2f-%.2f)", ratio->p10, ratio->p90);
        extra_text += buffer;
      }
      for (const auto& extra : further_baselines_of(row.engine)) {
        const auto other = baseline_us.find(key_of(row, extra));
        if (other == baseline_us.end() || extra == row.engine) continue;
        char buffer[96];
        std::snprintf(buffer, sizeof(buffer), "  %.2fx %s", other->second / time, extra.c_str());
        extra_text += buffer;
      }
      if (strongest && dense_baselines_of(row.engine).size() > 1) {
        char buffer[128];
        std::snprintf(buffer, sizeof(buffer), "  | strongest dense: %.2fx %s", strongest->time_us / time,
                      strongest->engine.c_str());
        extra_text += buffer;
      }
      std::printf("%-14s %-6s %-5s %-5d %-24s %11.1f %9.2f %10.1f %7.0f%% %9.2fx %s%s\n",
                  (std::to_string(row.rows) + "x" + std::to_string(row.cols)).c_str(), row.pattern.to_string().c_str(),
                  row.quant.bits_name().c_str(), row.batch, row.engine.c_str(), time, gbps, floor_us,
                  100.0 * floor_us / time, speedup, baseline.c_str(), extra_text.c_str());
    }
  }
  if (!options.json) print_fpga_cycles_table(rows);
  std::cout.flush();
  return summary.skipped > 0 ? 1 : 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand("bench", "Time every engine variant beside its baseline on synthetic LLM-shaped layers");
  command->add_option("--engines", options->engines, "Engine variants or families")->capture_default_str();
  command->add_option("--shapes", options->shapes, "Layer shapes N_outxK, comma-separated")->capture_default_str();
  command->add_option("--batch", options->batches, "Batch sizes, comma-separated")->capture_default_str();
  command->add_option("--pattern", options->patterns, "N:M patterns")->capture_default_str();
  command->add_option("--bits", options->bits, "Bit widths")->capture_default_str();
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_flag("--json", options->json, "One JSON object per measurement per line");
  command->add_flag("--quiet", options->quiet, "No progress line on stderr (it is shown only on a terminal)");
  command->add_option("--threads", options->threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  command->add_option("--timing-seconds", options->timing_seconds, "Time budget per measurement")->capture_default_str();
  auto* group = command->add_option("--group", options->group, "Quantization group size along K")->capture_default_str();
  group->excludes(command->add_flag("--per-channel", options->per_channel, "One scale per output channel"));
  command->add_option("--array", options->arrays, "FPGA systolic array sizes ROWSxCOLS (default 16x16,32x32)");
  command->add_option("--fpga-clock-mhz", options->fpga_clock_mhz, "FPGA clock for time = cycles / clock")
      ->capture_default_str();
  command
      ->add_option("--fpga-memory", options->fpga_memory,
                   "Memory behind the FPGA array's port: ddr4-2400, ddr4-3200, lpddr4, hbm2, unlimited, or GB/s "
                   "(docs/fpga-memory.md)")
      ->capture_default_str();
  return {command, [options] { return bench(*options); }};
}

}  // namespace nmscope::cli
