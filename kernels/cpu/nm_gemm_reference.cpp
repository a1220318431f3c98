// The scalar reference of y = x W^T on the packed format: decode every slot exactly as docs/packed-format.md says
// (w = float(code - z) * float(scale)) and accumulate in double. Every SIMD kernel is tested against it.
#include <vector>

#include "nmscope/kernels/bit_string.hpp"
#include "nmscope/kernels/fp16.hpp"
#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels {

void nm_gemm_reference(const PackedWeightsView& w, const float* x, int64_t batch, int64_t row_begin, int64_t row_end,
                       float* y) {
  std::vector<double> sums(static_cast<size_t>(batch));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const uint8_t* values = w.values + row * w.value_row_bytes;
    std::fill(sums.begin(), sums.end(), 0.0);
    for (int64_t slot = 0; slot < w.slots_per_row; ++slot) {
      const int64_t column = w.column_of(row, slot);
      if (column >= w.cols) continue;  // tail padding holds no weight
      const int64_t scale_index = w.scale_index(row, column);
      const int code = int(read_bits(values, slot, w.bits));
      const float weight = float(code - w.zero_point(scale_index)) * fp16_bits_to_float_exact(w.scales[scale_index]);
      for (int64_t token = 0; token < batch; ++token) sums[size_t(token)] += double(weight) * x[token * w.cols + column];
    }
    for (int64_t token = 0; token < batch; ++token) y[token * w.rows + row] = float(sums[size_t(token)]);
  }
}

namespace {

// Rows [row_begin, row_end) of y for `batch` tokens from rounded activations: every slot decoded exactly, each
// product w * s_w * activation_of(token, column) summed in double. The references of the SIMD kernels differ only in
// how they read an activation back.
template <class ActivationOf>
void reference_over_slots(const PackedWeightsView& w, int64_t batch, int64_t row_begin, int64_t row_end, float* y,
                          const ActivationOf& activation_of) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const uint8_t* values = w.values + row * w.value_row_bytes;
    for (int64_t token = 0; token < batch; ++token) {
      double sum = 0;
      for (int64_t slot = 0; slot < w.slots_per_row; ++slot) {
        const int64_t column = w.column_of(row, slot);
        if (column >= w.cols) continue;
        const int64_t scale_index = w.scale_index(row, column);
        const int weight = int(read_bits(values, slot, w.bits)) - w.zero_point(scale_index);
        sum += double(weight) * fp16_bits_to_float_exact(w.scales[scale_index]) * activation_of(token, column);
      }
      y[token * w.rows + row] = float(sum);
    }
  }
}

}  // namespace

void nm_gemm_reference_quantized(const PackedWeightsView& w, const QuantizedActivations& x, int64_t row_begin,
                                 int64_t row_end, float* y) {
  constexpr int64_t chunk = QuantizedActivations::kBlock;
  const int64_t chunks = x.padded_cols / chunk;
  reference_over_slots(w, x.batch, row_begin, row_end, y, [&](int64_t token, int64_t column) {
    const int activation = int(x.values[size_t(token * x.row_stride + column)]) - 128;
    return double(activation) * x.scales[size_t(token * chunks + column / chunk)];
  });
}

void nm_gemm_reference_bf16(const PackedWeightsView& w, const Bf16Activations& x, int64_t row_begin, int64_t row_end,
                            float* y) {
  reference_over_slots(w, x.batch, row_begin, row_end, y, [&](int64_t token, int64_t column) {
    const size_t at = size_t(token * x.row_stride + column);
    return double(bf16_bits_to_float(x.values[at])) + (x.pair() ? double(bf16_bits_to_float(x.low[at])) : 0.0);
  });
}

}  // namespace nmscope::kernels
