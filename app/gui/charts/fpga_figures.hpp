#pragma once
// What the FPGA engine rows carry beyond the common columns: the systolic array's shape in the variant's name
// ("fpga/systolic-16x32": 16 rows by 32 columns of PEs) and the PE utilization in details_json.
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
// details_json's "utilization" as a percentage. The engine writes a fraction in [0, 1]; a value above 1 is taken
// as already in percent. Empty when the key is missing, not a number, or the JSON is malformed.
std::optional<double> utilization_percent(const std::string& details_json);

}  // namespace nmscope::gui
