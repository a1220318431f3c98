#include "nmscope/gpu_device.hpp"

#include "nmscope/kernels/cuda/gpu_runtime.hpp"

namespace nmscope {

const GpuDevice& gpu_device() {
  static const GpuDevice device = [] {
    const kernels::cuda::DeviceStatus& status = kernels::cuda::device_status();
    return GpuDevice{status.available, status.name, status.reason};
  }();
  return device;
}

}  // namespace nmscope
