// kernels/cuda built without a CUDA compiler (NMSCOPE_CUDA OFF): every GPU variant is unavailable with this reason.
#include "nmscope/kernels/cuda/gpu_runtime.hpp"

namespace nmscope::kernels::cuda {

namespace {
const char* const kReason = "built without CUDA (no nvcc found at configure time, or NMSCOPE_CUDA=OFF)";
GpuRun not_built() {
  GpuRun run;
  run.error = kReason;
  return run;
}
}  // namespace

const DeviceStatus& device_status() {
  static const DeviceStatus status = [] {
    DeviceStatus found;
    found.reason = kReason;
    return found;
  }();
  return status;
}
const DeviceStatus& cusparselt_status() { return device_status(); }
GpuRun run_cublas_fp16(const float*, int64_t, int64_t, const float*, int64_t, const GpuTimingSpec&) {
  return not_built();
}
GpuRun run_cusparselt_fp16_24(const float*, int64_t, int64_t, const float*, int64_t, const GpuTimingSpec&) {
  return not_built();
}
GpuRun run_packed(const GpuWeightLayout&, const float*, int64_t, const GpuTimingSpec&) { return not_built(); }
double measure_device_bandwidth_gb_per_s() { return 0; }
bool probe_metadata_order(MetadataOrder& order, std::string& reason) {
  order = MetadataOrder::RowPairsByHalf;
  reason = kReason;
  return false;
}

}  // namespace nmscope::kernels::cuda
