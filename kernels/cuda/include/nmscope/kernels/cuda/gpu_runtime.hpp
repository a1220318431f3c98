#pragma once
// The GPU side of nmscope as plain host calls (no CUDA types, so core and the CLI build without CUDA headers):
// device discovery, the cuBLASLt / cuSPARSELt baselines and nmscope's own tensor-core kernels on the layout of
// docs/gpu-kernels.md. Built from CUDA sources when NMSCOPE_CUDA is ON, else from a stub that reports why not.
// Every call reports failure (no device, out of memory, a kernel error) in its result; none throws or aborts.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/kernels/cuda/gpu_layout.hpp"

namespace nmscope::kernels::cuda {

struct DeviceStatus {
  bool available = false;
  std::string reason;  // why not, when unavailable
  std::string name;    // e.g. "NVIDIA H100 80GB HBM3"
  int sm_count = 0;
  int compute_capability = 0;  // 90 for Hopper
  int64_t l2_bytes = 0;
};
// Probed once per process (the first call initializes the CUDA runtime).
const DeviceStatus& device_status();
// cuSPARSELt: the library is loaded at run time; unavailable with the reason when it cannot be found or opened.
const DeviceStatus& cusparselt_status();

struct GpuTimingSpec {
  int warmup = 3;
  int min_repetitions = 10;
  int max_repetitions = 200;
  double target_seconds = 0.3;
  // run_packed: >= 0 runs that candidate plan (configuration and split-K count) instead of timing all and keeping the
  // fastest, so tests can check every plan; GpuRun::plans says how many there are for the layout and batch.
  int plan = -1;
};

struct GpuRun {
  bool ok = false;
  std::string error;                             // what failed, when !ok
  double median_us = 0, p10_us = 0, p90_us = 0;  // per call, from device events over CUDA-graph replays
  int repetitions = 0;
  int copies = 0;             // weight copies rotated so the timed weights come from memory, not the L2
  int64_t weight_bytes = 0;   // bytes of one weight copy as the kernel reads it
  std::string config;         // the kernel configuration or library algorithm that ran
  int plans = 0;              // run_packed: the candidate plans for this layout and batch
  std::vector<float> output;  // y [batch, rows], row-major, from an untimed call on poisoned memory
};

// y = x W^T with cuBLASLt, fp16 operands and output, fp32 accumulation; the best of the heuristic's algorithms.
// weights [rows, cols] and x [batch, cols], row-major fp32 (rounded to fp16 on upload).
GpuRun run_cublas_fp16(const float* weights, int64_t rows, int64_t cols, const float* x, int64_t batch,
                       const GpuTimingSpec& timing);
// The same product with cuSPARSELt on a 2:4 weight matrix (its plan built once per call and reused).
GpuRun run_cusparselt_fp16_24(const float* weights, int64_t rows, int64_t cols, const float* x, int64_t batch,
                              const GpuTimingSpec& timing);
// nmscope's own kernel on the GPU layout; fp16 activations, fp32 accumulation and output.
GpuRun run_packed(const GpuWeightLayout& layout, const float* x, int64_t batch, const GpuTimingSpec& timing);

// Device memory bandwidth in GB/s from a 1 GiB device-to-device copy (bytes read plus written over event time,
// best of 5): the byte floor of a memory-bound kernel. 0 when there is no device.
double measure_device_bandwidth_gb_per_s();

// The mma.sp metadata order this device follows, found by running one 16x8x32 product per candidate (cached).
// Returns false with the reason when no candidate gives the right product.
bool probe_metadata_order(MetadataOrder& order, std::string& reason);

}  // namespace nmscope::kernels::cuda
