#include "study_options.hpp"

#include "nmscope/error.hpp"
#include "nmscope/study_settings.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

void add_study_options(CLI::App& command, StudyOptions& options) {
  command.add_option("--pattern", options.patterns, "N:M patterns, e.g. dense,2:4,1:4,4:8")->capture_default_str();
  command.add_option("--bits", options.bits, "Bit widths 2..8, or 16 for fp16, e.g. 16,8,4")->capture_default_str();
  auto* group = command.add_option("--group", options.group, "Quantization group size along K")->capture_default_str();
  auto* channel = command.add_flag("--per-channel", options.per_channel, "One scale per output channel");
  auto* tensor = command.add_flag("--per-tensor", options.per_tensor, "One scale per tensor");
  group->excludes(channel)->excludes(tensor);
  channel->excludes(tensor);
  command.add_flag("--asym", options.asymmetric, "Asymmetric quantization (scale and zero point)");
  command.add_option("--criterion", options.criterion, "Pruning criterion: magnitude or wanda")->capture_default_str();
  command.add_option("--activations", options.activations, "Calibration activations .npy [tokens, K] (wanda, output error)");
  command.add_option("--engines", options.engines, "Engine variants or families, comma-separated, or none")
      ->capture_default_str();
  command.add_option("--batch", options.batches, "Batch sizes, comma-separated")->capture_default_str();
  command.add_option("--timing-seconds", options.timing_seconds, "Time budget per timed measurement")
      ->capture_default_str();
  command.add_option("--array", options.arrays, "FPGA systolic array sizes ROWSxCOLS, e.g. 16x16,32x32 (default both)");
  command.add_option("--fpga-clock-mhz", options.fpga_clock_mhz, "FPGA clock for time = cycles / clock")
      ->capture_default_str();
  command
      .add_option("--fpga-memory", options.fpga_memory,
                  "Memory behind the FPGA array's port: ddr4-2400, ddr4-3200, lpddr4, hbm2, unlimited, or GB/s "
                  "(docs/fpga-memory.md)")
      ->capture_default_str();
}

StudySpec make_study_spec(const StudyOptions& options) {
  StudySettings settings;
  settings.patterns = options.patterns;
  settings.bits = options.bits;
  settings.granularity = options.per_tensor    ? Granularity::Tensor
                         : options.per_channel ? Granularity::Channel
                                               : Granularity::Group;
  settings.group = options.group;
  settings.symmetric = !options.asymmetric;
  settings.criterion = options.criterion;
  settings.activations = options.activations;
  settings.engines = options.engines;
  settings.batches = options.batches;
  settings.timing_seconds = options.timing_seconds;
  settings.arrays = options.arrays;
  settings.fpga_clock_mhz = options.fpga_clock_mhz;
  settings.fpga_memory = options.fpga_memory;
  return nmscope::make_study_spec(settings);
}

}  // namespace nmscope::cli
