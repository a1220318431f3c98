#include "study_options.hpp"

#include <algorithm>
#include <charconv>

#include "nmscope/error.hpp"
#include "nmscope/text_list.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

std::vector<int> parse_batches(const std::string& list) {
  std::vector<int> batches;
  for (const std::string& item : comma_items(list)) {
    int value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty())
      throw UsageError("--batch", "'" + item + "' is not a whole number");
    if (value < 1) throw UsageError("--batch", "'" + item + "' is not a positive batch size");
    if (std::find(batches.begin(), batches.end(), value) == batches.end()) batches.push_back(value);  // "1,1": once
  }
  return batches;
}

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
}

StudySpec make_study_spec(const StudyOptions& options) {
  StudySpec spec;
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
    throw UsageError("--timing-seconds", "must be in (0, 60]");
  spec.timing.target_seconds = options.timing_seconds;
  if (!options.arrays.empty()) spec.engine_options.fpga_arrays = fpga::parse_array_sizes(options.arrays);
  spec.engine_options.fpga_clock_mhz = options.fpga_clock_mhz;
  return spec;
}

}  // namespace nmscope::cli
