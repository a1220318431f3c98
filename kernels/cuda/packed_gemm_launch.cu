// PackedGemm (packed_gemm_launch.hpp) over the plans of packed_gemm.hpp.
#include "nmscope/kernels/cuda/packed_gemm_launch.hpp"
#include "packed_gemm.hpp"

namespace nmscope::kernels::cuda {

struct PackedGemm::Plans {
  GpuWeightLayout geometry;  // the layout's shape (describe() names the code width and the path)
  std::vector<PackedGemmPlan> candidates;
  size_t chosen = 0;
};

PackedGemm::PackedGemm(const GpuWeightLayout& layout, int64_t batch, const __half* x, int64_t x_ld, float* y)
    : plans_(std::make_unique<Plans>()) {
  plans_->geometry = layout;
  plans_->candidates = packed_gemm_plans(layout, batch, x, x_ld, y);
}

PackedGemm::~PackedGemm() = default;

void PackedGemm::choose_fastest(const std::vector<const uint8_t*>& copies) {
  plans_->chosen = fastest_packed_gemm_plan(plans_->candidates, copies);
}

void PackedGemm::launch(const uint8_t* tiles, cudaStream_t stream, bool overlap_launch) const {
  launch_packed_gemm(plans_->candidates[plans_->chosen], tiles, stream, overlap_launch);
}

std::string PackedGemm::describe() const {
  return describe_packed_gemm(plans_->geometry, plans_->candidates[plans_->chosen]);
}

}  // namespace nmscope::kernels::cuda
