#pragma once
// What LinearWeights::tiles (gpu_decoder.hpp) holds: a packed layer in the GPU kernels' re-layout
// (docs/gpu-kernels.md). Private to the decode library and its white-box tests.
#include "nmscope/kernels/cuda/gpu_layout.hpp"

namespace nmscope {

struct GpuTiles {
  kernels::cuda::GpuWeightLayout layout;
};

}  // namespace nmscope
