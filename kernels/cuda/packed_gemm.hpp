#pragma once
// nmscope's own tensor-core GEMM (nm_gemm_tc.cuh) as prepared launches: the candidate plans (kernel configuration x
// split-K count) for one weight layout and batch, one launch of a plan on a stream, and the choice of the fastest.
// Shared by run_packed (one layer, timed) and the decoder step (every linear layer of a model in one graph).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gpu_runtime_internal.hpp"
#include "nm_gemm_tc.cuh"

namespace nmscope::kernels::cuda {

struct PackedGemmPlan {
  void (*kernel)(TcParams) = nullptr;
  int threads = 0, shared_bytes = 0;
  dim3 grid;
  TcParams params{};   // everything but the tiles, which each launch names
  size_t y_bytes = 0;  // zeroed before a split-K launch (params.accumulate)
  bool direct = false;
  std::string name;  // the configuration, e.g. "direct 16x8 cta, 8 warps along K"
};

// Every candidate plan for `layout` at `batch`: x fp16 [>= round_up(batch, 128) rows][x_ld >= padded_cols] (rows past
// the batch readable), y fp32 [batch][layout.rows].
std::vector<PackedGemmPlan> packed_gemm_plans(const GpuWeightLayout& layout, int64_t batch, const __half* x,
                                              int64_t x_ld, float* y);
// Enqueues one call on `tiles` (a device copy of layout.tiles), zeroing y first under split-K. `overlap_launch`:
// launched with programmatic dependent launch (the kernel waits for the one before it in griddepcontrol.wait);
// ignored under split-K, where a memset comes between.
void launch_packed_gemm(const PackedGemmPlan& plan, const uint8_t* tiles, cudaStream_t stream,
                        bool overlap_launch = false);
// The fastest plan, each timed briefly in a CUDA graph over `copies` (device copies of the same tiles, rotated so
// that the weights come from memory as they will when used).
size_t fastest_packed_gemm_plan(const std::vector<PackedGemmPlan>& plans, const std::vector<const uint8_t*>& copies);
// "mma.sp m16n8k32, 4-bit codes, direct 16x8 cta, ..., grid AxBxC (split-K)".
std::string describe_packed_gemm(const GpuWeightLayout& layout, const PackedGemmPlan& plan);

}  // namespace nmscope::kernels::cuda
