// measure_gpu_bandwidth_gb_per_s (memory_bandwidth.hpp), through kernels/cuda's host API.
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nmscope/memory_bandwidth.hpp"

namespace nmscope {

double measure_gpu_bandwidth_gb_per_s() { return kernels::cuda::measure_device_bandwidth_gb_per_s(); }

}  // namespace nmscope
