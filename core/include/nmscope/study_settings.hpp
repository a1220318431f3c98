#pragma once
// A study's settings as a user gives them (lists as text): the one place they become a StudySpec. The CLI's `run`
// and `model` and the app's Study pane each fill one, so both spell and check the settings alike.
#include <string>
#include <vector>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/quant_config.hpp"
#include "nmscope/study.hpp"

namespace nmscope {

struct StudySettings {
  std::string patterns = "2:4";  // "dense,2:4,1:4"
  std::string bits = "4";        // "16,8,4"
  Granularity granularity = Granularity::Group;
  int group = 128;
  bool symmetric = true;
  std::string criterion = "magnitude";
  std::string activations;      // calibration activations .npy; empty: none
  std::string engines = "cpu";  // variants or families, comma-separated, or "none"
  std::string batches = "1";    // "1,16"
  double timing_seconds = 0.3;
  std::string arrays;  // FPGA array sizes "16x16,32x32"; empty: the registry's default
  double fpga_clock_mhz = fpga::kDefaultClockMhz;
  std::string fpga_memory = fpga::default_memory_system().name;  // a preset or a bandwidth in GB/s
};

// The spec the settings describe (sources and tensors left to the caller). Throws SettingError naming the setting.
StudySpec make_study_spec(const StudySettings& settings);

// "1,16,1" -> {1, 16}: positive whole numbers, each once, in order. Throws SettingError(Batch, ...).
std::vector<int> parse_batches(const std::string& list);

}  // namespace nmscope
