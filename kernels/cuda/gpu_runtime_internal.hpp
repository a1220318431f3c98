#pragma once
// Shared by the CUDA sources of kernels/cuda: the device objects (device_objects.hpp) and the one timing loop every
// GPU variant uses (device events around CUDA-graph replays over rotated weight copies).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nmscope/kernels/cuda/device_objects.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"

namespace nmscope::kernels::cuda {

struct TimingResult {
  double median_us = 0, p10_us = 0, p90_us = 0;
  int repetitions = 0;
  bool graph = false;
};

// How many weight copies to rotate through so that the replayed sequence reads from memory, not the L2.
int rotation_copies_for(int64_t bytes_per_copy);
// launch(stream, copy) enqueues one call on weight copy `copy`; all copies are captured into one CUDA graph
// (plain launches when `use_graph` is false or capture fails) and each replay is timed with events.
TimingResult time_launches(const std::function<void(cudaStream_t, int)>& launch, int copies, const GpuTimingSpec& spec,
                           bool use_graph);
}  // namespace nmscope::kernels::cuda
