// The FPGA part of `nmscope-cli bench`: for every fpga/systolic-RxC row, cycles beside the dense configuration of
// the same array, shape, bits and batch measured in the same run, the sparse target (1.1 x N/M of dense),
// utilization, where the cycles came from (the RTL, or the analytic model past the simulation budget), the
// simulation speed, and the memory system's part (issue 22): stall cycles, weight bytes through the port and
// whether the point is memory- or compute-bound.
#include "fpga_cycles_table.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "nmscope/engine_family.hpp"

namespace nmscope::cli {

void print_fpga_cycles_table(const std::vector<Measurement>& rows) {
  auto key_of = [](const Measurement& row) {
    return row.tensor + "|" + std::to_string(row.quant.bits) + "|" + std::to_string(row.batch) + "|" + row.engine;
  };
  std::map<std::string, int64_t> dense_cycles;
  for (const auto& row : rows)
    if (family_counts_cycles(row.engine) && row.cycles && row.pattern.is_dense())
      dense_cycles[key_of(row)] = *row.cycles;

  bool header = false;
  for (const auto& row : rows) {
    if (!family_counts_cycles(row.engine) || !row.cycles) continue;
    if (!header) {
      const auto first = nlohmann::json::parse(row.details_json, nullptr, false);
      const std::string memory = first.is_object() ? first.value("memory", "?") : "?";
      std::printf(
          "\nFPGA systolic array (cycles; ratio = cycles / dense cycles of the same array, shape, bits, batch; "
          "weights streamed from %s)\n",
          memory.c_str());
      std::printf("%-14s %-6s %-5s %-5s %-20s %12s %-6s %8s %8s %-5s %6s %10s %-9s %10s %9s %s\n", "shape", "N:M",
                  "bits", "batch", "engine", "cycles", "from", "ratio", "target", "met", "util%", "sim_Mc/s",
                  "bit_exact", "stalls", "MB_moved", "bound");
      header = true;
    }
    const auto details = nlohmann::json::parse(row.details_json, nullptr, false);
    auto number = [&](const char* field) {
      return details.is_object() && details.contains(field) && details[field].is_number() ? details[field].get<double>()
                                                                                           : NAN;
    };
    const std::string source = details.is_object() ? details.value("cycles_source", "?") : "?";
    const std::string exact =
        details.is_object() && details.contains("bit_exact") ? (details["bit_exact"].get<bool>() ? "yes" : "NO") : "-";
    const auto dense = dense_cycles.find(key_of(row));
    const double ratio = dense != dense_cycles.end() ? double(*row.cycles) / double(dense->second) : NAN;
    double target = NAN;
    if (!row.pattern.is_dense()) target = 1.1 * row.pattern.density();
    const char* met = std::isfinite(ratio) && std::isfinite(target) ? (ratio <= target ? "yes" : "no") : "-";
    const std::string bound = details.is_object() ? details.value("bound", "-") : "-";
    std::printf("%-14s %-6s %-5s %-5d %-20s %12lld %-6s %8.3f %8.3f %-5s %6.1f %10.2f %-9s %10.0f %9.2f %s\n",
                (std::to_string(row.rows) + "x" + std::to_string(row.cols)).c_str(), row.pattern.to_string().c_str(),
                row.quant.bits_name().c_str(), row.batch, row.engine.c_str(), static_cast<long long>(*row.cycles),
                source.c_str(), ratio, target, met, 100.0 * number("utilization"),
                number("simulated_cycles_per_second") / 1e6, exact.c_str(), number("stall_cycles"),
                number("weight_bytes_moved") / 1e6, bound.c_str());
  }
}

}  // namespace nmscope::cli
