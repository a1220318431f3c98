#pragma once
// The machine's memory read bandwidth, measured the way the engines read weights: every thread of the pool
// streams its share of a buffer far larger than the last-level cache. The byte floor of a memory-bound kernel is
// its bytes divided by this.
#include <atomic>

namespace nmscope {

struct BandwidthFigures {
  double read_gb_per_s = 0;   // median over the repetitions
  double buffer_mb = 0;
  int threads = 0;
};

BandwidthFigures measure_read_bandwidth(const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
