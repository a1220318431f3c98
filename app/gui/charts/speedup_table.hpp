#pragma once
// Speedups of engine variants against the baseline of their family, measured in the same study on the same tensor
// and batch, and why a variant has no bar or a bar below 1x. Pure (no widgets), so that the rules are tested apart
// from the chart.
#include <QList>
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope::gui {

// The baseline every variant of a family is quoted against (core's dense_baseline_engine): "cpu/eigen-fp32-dense"
// for cpu/*, "gpu/cublas-fp16-dense" for gpu/*, and for an FPGA array the same array (its run of the dense
// configuration at the same bits), since cycles on one array say nothing of time on another engine.
std::string baseline_engine_for(const std::string& engine);

struct Speedup {
  int row = 0;           // the variant's model row
  int baseline_row = 0;  // the model row it is compared with
  std::string engine;
  std::string baseline;  // "cpu/eigen-fp32-dense"; "fpga/systolic-16x16 dense" for an array's dense run
  // Timed engines: median times. Cycle-counted engines (fpga): 0, and the cycles below instead.
  double time_us = 0;
  double baseline_time_us = 0;
  std::int64_t cycles = 0;
  std::int64_t baseline_cycles = 0;
  double speedup = 0;  // baseline cost / variant cost
  // Timed with its baseline in alternating rounds: the per-round ratio's spread (p10, p90) over `rounds`; otherwise
  // (timed alone, cycle-counted) rounds = 0 and the speedup is the ratio of the two medians.
  double speedup_p10 = 0;
  double speedup_p90 = 0;
  int rounds = 0;
  // For a speedup below 1x: the likely reason, in words ("" otherwise).
  std::string slower_because;
};

// A variant row that has no bar, and why ("unavailable: no NVIDIA GPU / driver found", "no cpu/eigen-fp32-dense
// timed in the same study, tensor and batch").
struct LeftOut {
  std::string engine;
  std::string reason;
  friend bool operator<(const LeftOut& a, const LeftOut& b) {
    return a.reason != b.reason ? a.reason < b.reason : a.engine < b.engine;
  }
  friend bool operator==(const LeftOut&, const LeftOut&) = default;
};

struct SpeedupTable {
  std::vector<Speedup> speedups;         // in model order of the variants' rows
  std::vector<std::string> no_baseline;  // variants left out: no baseline measured in the same study (sorted, unique)
  std::vector<LeftOut> left_out;         // every variant left out with its reason (sorted by reason, unique)
};

// The speedup of every measured row among `rows`: timed ("ok", time_us > 0) for cpu and gpu, cycle-counted for
// fpga. Its baseline is looked up among all `measurements` (the user need not select it): same study_id, tensor and
// batch, measured, preferring the row of the same configuration (the baseline multiplies that configuration's
// dequantized weights), else the first one; an FPGA variant needs the dense configuration with its bits on its array.
SpeedupTable speedup_table(const std::vector<Measurement>& measurements, const std::vector<int>& rows);

// Why `variant` ran slower than its baseline (speedup < 1), from what the rows say: a small layer, a batch where
// the matmul is compute-bound, or a kernel below the baseline's bandwidth.
std::string slower_reason(const Measurement& variant, const Speedup& speedup);

}  // namespace nmscope::gui
