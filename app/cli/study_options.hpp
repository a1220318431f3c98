#pragma once
// The configuration, engine and timing options that `run` and `model` share, registered and turned into a StudySpec
// in one place so both commands spell and check them alike.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/study.hpp"
#include "nmscope/study_settings.hpp"

namespace nmscope::cli {

struct StudyOptions {
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
  double timing_seconds = 0.3;
  std::string arrays;  // empty: the registry's default FPGA arrays
  double fpga_clock_mhz = fpga::kDefaultClockMhz;
  std::string fpga_memory = fpga::default_memory_system().name;
};

// --pattern, --bits, --group/--per-channel/--per-tensor, --asym, --criterion, --activations, --engines, --batch,
// --timing-seconds, --array, --fpga-clock-mhz.
void add_study_options(CLI::App& command, StudyOptions& options);
// Through core's make_study_spec(StudySettings): throws SettingError naming the setting at fault.
StudySpec make_study_spec(const StudyOptions& options);

}  // namespace nmscope::cli
