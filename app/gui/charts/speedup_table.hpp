#pragma once
// Speedups of engine variants against the baseline of their family, measured in the same study on the same tensor
// and batch. Pure (no widgets), so that the rule is tested apart from the chart.
#include <QList>
#include <string>
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope::gui {

// The baseline every variant of a family is quoted against: "cpu/eigen-fp32-dense" for cpu/*,
// "gpu/cublas-fp16-dense" for gpu/*; "" for families without one (fpga/* report cycles, not time).
std::string baseline_engine_for(const std::string& engine);

struct Speedup {
  int row = 0;           // the variant's model row
  int baseline_row = 0;  // the model row it is compared with
  std::string engine;
  std::string baseline;
  double time_us = 0;
  double baseline_time_us = 0;
  double speedup = 0;  // baseline_time_us / time_us
};

struct SpeedupTable {
  std::vector<Speedup> speedups;         // in model order of the variants' rows
  std::vector<std::string> no_baseline;  // variants left out: no baseline timed in the same study (sorted, unique)
};

// The speedup of every timed ("ok", time_us > 0) row among `rows`. Its baseline is looked up among all
// `measurements` (the user need not select it): same study_id, tensor and batch, timed, preferring the row of the
// same configuration (the baseline multiplies that configuration's dequantized weights), else the first one.
SpeedupTable speedup_table(const std::vector<Measurement>& measurements, const std::vector<int>& rows);

}  // namespace nmscope::gui
