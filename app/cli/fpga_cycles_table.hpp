#pragma once
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope::cli {
// Prints the FPGA rows of a bench run as cycles against their dense counterparts (nothing when there are none).
void print_fpga_cycles_table(const std::vector<Measurement>& rows);
}  // namespace nmscope::cli
