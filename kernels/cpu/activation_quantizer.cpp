// int8 activations for the SIMD kernels (see nm_gemm.hpp): one scale per token and block of 128 columns, the block
// the kernels consume with one byte permutation. Blocks of all zeros get scale 0 and decode to zeros.
#include <algorithm>
#include <cmath>

#include "nm_gemm_isa.hpp"
#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels {

void quantize_activations(const float* x, int64_t batch, int64_t cols, QuantizedActivations& out) {
  constexpr int64_t block = QuantizedActivations::kBlock;
  out.batch = batch;
  out.cols = cols;
  out.padded_cols = (cols + block - 1) / block * block;
  const int64_t blocks = out.padded_cols / block;
  // 128 encodes 0; 64 bytes of slack past the last token let kernels load whole words at any column.
  out.row_stride = out.padded_cols + 64;
  out.values.assign(size_t(batch * out.row_stride + 64), 128);
  out.scales.assign(size_t(batch * blocks), 0.0f);
  if (isa_available(Isa::Avx512Vnni)) {
    avx512::quantize_blocks(x, batch, cols, out);
    return;
  }
  for (int64_t token = 0; token < batch; ++token) {
    const float* row = x + token * cols;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t first = b * block;
      const int64_t last = std::min(cols, first + block);
      float absmax = 0;
      for (int64_t col = first; col < last; ++col) absmax = std::max(absmax, std::fabs(row[col]));
      if (absmax == 0) continue;
      const float scale = absmax / 127.0f;
      out.scales[size_t(token * blocks + b)] = scale;
      const float inverse = 1.0f / scale;
      uint8_t* q = out.values.data() + token * out.row_stride;
      for (int64_t col = first; col < last; ++col)
        q[col] = uint8_t(int(std::clamp(std::nearbyint(row[col] * inverse), -127.0f, 127.0f)) + 128);
    }
  }
}

}  // namespace nmscope::kernels
