#pragma once
// One linear layer on nmscope's own tensor-core GEMM, prepared for the decoder step: the candidate plans for its
// layout and batch (packed_gemm.hpp), the fastest chosen over its device copies, then one launch per call. Host types
// only, so the step's orchestration compiles without the device compiler.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nmscope/kernels/cuda/gpu_layout.hpp"

namespace nmscope::kernels::cuda {

class PackedGemm {
 public:
  // x fp16 [>= round_up(batch, 128) rows][x_ld >= layout.padded_cols], y fp32 [batch][layout.rows].
  PackedGemm(const GpuWeightLayout& layout, int64_t batch, const __half* x, int64_t x_ld, float* y);
  ~PackedGemm();
  PackedGemm(const PackedGemm&) = delete;
  PackedGemm& operator=(const PackedGemm&) = delete;
  // Times every candidate briefly over `copies` (device copies of the tiles) and keeps the fastest.
  void choose_fastest(const std::vector<const uint8_t*>& copies);
  // One call on `tiles` (overlap_launch: programmatic dependent launch; ignored under split-K).
  void launch(const uint8_t* tiles, cudaStream_t stream, bool overlap_launch) const;
  // "mma.sp m16n8k32, 4-bit codes, direct 16x8 cta, ..., grid AxBxC (split-K)".
  std::string describe() const;

 private:
  struct Plans;
  std::unique_ptr<Plans> plans_;
};

}  // namespace nmscope::kernels::cuda
