// The memories behind the FPGA array's port: named presets, a bandwidth typed in GB/s, and their timing in cycles of
// the array's clock. The numbers and their sources: docs/fpga-memory.md.
#include <charconv>
#include <cmath>
#include <cstdio>

#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/rtl/memory_port.hpp"

namespace nmscope::fpga {

namespace {
// A typed bandwidth gets this latency: between the DDR4 and HBM figures of docs/fpga-memory.md.
constexpr double kTypedLatencyNs = 100.0;
}  // namespace

const std::vector<MemorySystem>& memory_presets() {
  static const std::vector<MemorySystem> presets{
      {"ddr4-2400", 19.2, 73.0},  // one 64-bit channel: 2400 MT/s x 8 bytes
      {"ddr4-3200", 25.6, 73.0},  // one 64-bit channel: 3200 MT/s x 8 bytes
      {"lpddr4", 12.8, 100.0},    // one 32-bit LPDDR4-3200 channel (edge SoCs)
      {"hbm2", 425.0, 107.0},     // both stacks of an Alveo U280, as measured (Shuhai)
      {"unlimited", 0.0, 0.0},    // the port's width every cycle, no latency: the array alone
  };
  return presets;
}

MemorySystem default_memory_system() { return memory_presets().front(); }

std::string MemorySystem::to_string() const {
  if (gigabytes_per_second <= 0) return name + " (the port's width every cycle)";
  char text[96];
  std::snprintf(text, sizeof text, " (%g GB/s, %g ns)", gigabytes_per_second, latency_ns);
  return name + text;
}

MemorySystem parse_memory_system(const std::string& text) {
  for (const MemorySystem& preset : memory_presets())
    if (preset.name == text) return preset;
  double gbps = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), gbps);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(gbps))
    throw SettingError(Setting::FpgaMemory, "'" + text +
                                                "' is neither ddr4-2400, ddr4-3200, lpddr4, hbm2, unlimited nor a "
                                                "bandwidth in GB/s (e.g. 12.8)");
  if (!(gbps >= 0.1 && gbps <= 10000))
    throw SettingError(Setting::FpgaMemory, "'" + text + "': a bandwidth must be in [0.1, 10000] GB/s");
  return {text, gbps, kTypedLatencyNs};
}

MemoryTiming memory_timing(const MemorySystem& memory, double clock_mhz) {
  MemoryTiming timing;
  if (memory.gigabytes_per_second <= 0 || clock_mhz <= 0) return timing;
  timing.latency_cycles = int64_t(std::ceil(memory.latency_ns * clock_mhz / 1000.0));
  const double bytes_per_cycle = memory.gigabytes_per_second * 1000.0 / clock_mhz;
  timing.bytes_per_cycle_q16 =
      std::max<int64_t>(1, int64_t(std::llround(bytes_per_cycle * double(rtl::kBandwidthOne))));
  return timing;
}

}  // namespace nmscope::fpga
