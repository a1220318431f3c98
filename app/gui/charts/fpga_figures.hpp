#pragma once
// What the FPGA engine rows carry beyond the common columns: the systolic array's shape in the variant's name
// ("fpga/systolic-16x32": 16 rows by 32 columns of PEs) and the PE utilization in details_json.
#include <QString>
#include <optional>
#include <string>

namespace nmscope::gui {

struct SystolicArray {
  int rows = 0;
  int cols = 0;
  int processing_elements() const { return rows * cols; }
};

// The array of an "fpga/systolic-RxC" variant; empty for any other engine name.
std::optional<SystolicArray> systolic_array_of(const std::string& engine);
// A row's place on the roofline (issue 22): useful multiply-accumulates per weight byte the memory port moved, and
// per cycle; the roofs of its design point: the array's MACs per cycle and the memory's bytes per cycle (the
// sustained bandwidth at the clock, capped by the port's width). Empty for rows without those details (an FPGA row
// from before the memory port, or another engine).
struct RooflinePoint {
  double macs_per_byte = 0;
  double macs_per_cycle = 0;
  double compute_roof = 0;     // rows x cols
  double bytes_per_cycle = 0;  // the memory roof's slope
  QString memory;              // "ddr4-2400"
  QString bound;               // "memory" or "compute"
  long long stall_cycles = 0;
};
std::optional<RooflinePoint> roofline_point(const std::string& engine, const std::string& details_json,
                                            long long cycles);

// details_json's "utilization" as a percentage. The engine writes a fraction in [0, 1]; a value above 1 is taken
// as already in percent. Empty when the key is missing, not a number, or the JSON is malformed.
std::optional<double> utilization_percent(const std::string& details_json);

}  // namespace nmscope::gui
