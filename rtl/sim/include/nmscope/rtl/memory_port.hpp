#pragma once
// The memory behind the array's port (rtl/README.md, "Memory port"), cycle by cycle: what the harness plays and
// what the analytic cycle model (core/src/engines/fpga/systolic_array.cpp, fold_stream_arrival) evaluates in closed
// form. One rule, written here once:
//   - nothing arrives before cycle `latency_cycles` (counted from the cycle after the start pulse, the controller's
//     priming cycle being cycle 0): requests run ahead of the banks, so the latency is paid once per run;
//   - from then on a credit grows by the sustained bandwidth every cycle, capped at two beats; a beat is delivered
//     in a cycle the array is ready and the credit holds a whole beat, which it then spends.
// Bandwidth is fixed point: bytes per cycle times 2^16, so 19.2 GB/s at 250 MHz (76.8 bytes per cycle) is exact
// enough; at or above the port's width a beat can come every cycle.
#include <algorithm>
#include <cstdint>

namespace nmscope::rtl {

inline constexpr int64_t kBandwidthOne = int64_t(1) << 16;  // one byte per cycle

struct PortTiming {
  int64_t latency_cycles = 0;
  int64_t bytes_per_cycle_q16 = 0;  // sustained bandwidth; 0: a beat every cycle (the port's width)
};

class MemoryPort {
 public:
  MemoryPort(PortTiming timing, int port_bytes)
      : latency_(timing.latency_cycles),
        beat_(int64_t(port_bytes) * kBandwidthOne),
        rate_(timing.bytes_per_cycle_q16 > 0 ? timing.bytes_per_cycle_q16 : int64_t(port_bytes) * kBandwidthOne) {}

  // Cycle `cycle` begins: whether a beat can be delivered in it, should the array be ready.
  bool begin_cycle(int64_t cycle) {
    if (cycle < latency_) return false;
    credit_ = std::min(credit_ + rate_, 2 * beat_);
    return credit_ >= beat_;
  }
  void deliver() { credit_ -= beat_; }

 private:
  int64_t latency_;
  int64_t beat_;
  int64_t rate_;
  int64_t credit_ = 0;
};

}  // namespace nmscope::rtl
