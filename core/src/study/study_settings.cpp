#include "nmscope/study_settings.hpp"

#include <algorithm>
#include <charconv>

#include "nmscope/error.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/text_list.hpp"

namespace nmscope {

std::vector<int> parse_batches(const std::string& list) {
  std::vector<int> batches;
  for (const std::string& raw : comma_items(list)) {
    const std::string item = trim(raw);
    int value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty())
      throw SettingError(Setting::Batch, "'" + item + "' is not a whole number");
    if (value < 1) throw SettingError(Setting::Batch, "'" + item + "' is not a positive batch size");
    if (std::find(batches.begin(), batches.end(), value) == batches.end()) batches.push_back(value);  // "1,1": once
  }
  return batches;
}

StudySpec make_study_spec(const StudySettings& settings) {
  StudySpec spec;
  spec.patterns = NMPattern::parse_list(settings.patterns);
  spec.bits = QuantConfig::parse_bits_list(settings.bits);
  spec.granularity = settings.granularity;
  spec.group = settings.group;
  spec.symmetric = settings.symmetric;
  spec.criterion = parse_criterion(settings.criterion);
  spec.activations_path = settings.activations;
  spec.engines = settings.engines;
  spec.batches = parse_batches(settings.batches);
  if (!(settings.timing_seconds > 0 && settings.timing_seconds <= 60))
    throw SettingError(Setting::TimingBudget, "must be in (0, 60] seconds");
  spec.timing.target_seconds = settings.timing_seconds;
  if (!settings.arrays.empty()) spec.engine_options.fpga_arrays = fpga::parse_array_sizes(settings.arrays);
  spec.engine_options.fpga_clock_mhz = settings.fpga_clock_mhz;
  spec.engine_options.fpga_memory = fpga::parse_memory_system(settings.fpga_memory);
  return spec;
}

}  // namespace nmscope
