#pragma once
// The GPU the gpu/ variants and the decode step run on, as the front ends see it: probed once by kernels/cuda's
// runtime (core/src/engines/gpu/gpu_device.cpp), so that no front end calls the kernels itself.
#include <string>

namespace nmscope {

struct GpuDevice {
  bool available = false;
  std::string name;    // e.g. "NVIDIA H100 80GB HBM3", when available
  std::string reason;  // why not, when unavailable (no driver, no device, a build without CUDA)
};

const GpuDevice& gpu_device();

}  // namespace nmscope
