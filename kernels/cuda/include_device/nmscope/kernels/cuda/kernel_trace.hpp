#pragma once
// Per-kernel start and end times on the device (CUPTI activity records), to explain a step's time: the sum of its
// kernels, the time at least one ran, and the gaps between them. libcupti is opened at run time, so a machine
// without it still runs everything else and reports why the trace is missing.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nmscope::kernels::cuda {

struct KernelRecord {
  std::string name;
  uint64_t start_ns = 0, end_ns = 0;
};

struct KernelTrace {
  bool ok = false;
  std::string error;
  std::vector<KernelRecord> kernels;  // kernels and memsets, in start order
};

// Runs `work` (which must synchronize the device before returning) with kernel and memset tracing on.
KernelTrace trace_kernels(const std::function<void()>& work);

}  // namespace nmscope::kernels::cuda
