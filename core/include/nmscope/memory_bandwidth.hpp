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

// The GPU's memory bandwidth (a 1 GiB device-to-device copy, bytes read plus written): the byte floor of gpu/
// variants. 0 when there is no GPU (core/src/engines/gpu/gpu_bandwidth.cpp).
double measure_gpu_bandwidth_gb_per_s();

}  // namespace nmscope
