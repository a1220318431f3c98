// bf16 activations for the bf16 kernel and padded fp32 ones for the fp32 kernel (nm_gemm.hpp), and what a path
// reports about itself.
#include <cstring>

#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels {

namespace {

// Round to nearest, ties to even, as vcvtneps2bf16 does; a NaN stays a (quiet) NaN.
uint16_t float_to_bf16_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((bits >> 16) | 0x40);
  return uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace

float bf16_bits_to_float(uint16_t bits) {
  const uint32_t widened = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &widened, 4);
  return value;
}

void round_activations_to_bf16(const float* x, int64_t batch, int64_t cols, Bf16Activations& out, bool pair) {
  constexpr int64_t block = QuantizedActivations::kBlock;
  out.batch = batch;
  out.cols = cols;
  out.padded_cols = (cols + block - 1) / block * block;
  out.row_stride = out.padded_cols + 32;
  out.values.assign(size_t(batch * out.row_stride + 32), 0);
  if (pair)
    out.low.assign(out.values.size(), 0);
  else
    out.low.clear();
  for (int64_t token = 0; token < batch; ++token)
    for (int64_t col = 0; col < cols; ++col) {
      const float value = x[token * cols + col];
      const size_t at = size_t(token * out.row_stride + col);
      out.values[at] = float_to_bf16_bits(value);
      if (pair) out.low[at] = float_to_bf16_bits(value - bf16_bits_to_float(out.values[at]));
    }
}

void pad_activations(const float* x, int64_t batch, int64_t cols, Fp32Activations& out) {
  constexpr int64_t block = QuantizedActivations::kBlock;
  out.batch = batch;
  out.cols = cols;
  out.padded_cols = (cols + block - 1) / block * block;
  out.row_stride = out.padded_cols + 16;
  out.values.assign(size_t(batch * out.row_stride), 0.0f);
  for (int64_t token = 0; token < batch; ++token)
    std::memcpy(out.values.data() + token * out.row_stride, x + token * cols, size_t(cols) * sizeof(float));
}

std::string activation_precision_name(ActivationPrecision precision) {
  switch (precision) {
    case ActivationPrecision::Fp32:
      return "fp32";
    case ActivationPrecision::Bf16:
      return "bf16";
    case ActivationPrecision::Bf16Pair:
      return "bf16 pair (high + low)";
    case ActivationPrecision::Int8:
      break;
  }
  return "int8 per 128 columns";
}

std::string NmGemmPath::kernel() const {
  if (isa == Isa::Reference) return isa_name(isa);
  if (amx) return activations == ActivationPrecision::Int8 ? "amx-int8" : "amx-bf16";
  if (activations == ActivationPrecision::Fp32) return isa == Isa::Avx2 ? "avx2-fp32" : "avx512-fp32";
  return activations == ActivationPrecision::Int8 ? isa_name(isa) : std::string("avx512-bf16");
}

std::string NmGemmPath::tiling(int64_t batch) const {
  if (isa == Isa::Reference) return "scalar, one slot at a time";
  if (amx)
    return activations == ActivationPrecision::Int8
               ? "blocks of 16 rows decoded to int8 tiles, 16 tokens per tile product (TDPBSSD)"
               : "blocks of 16 rows decoded to bf16 tiles, 16 tokens per tile product (TDPBF16PS)";
  if (isa == Isa::Avx2) return "each row decoded once, every token gathered from it";
  if (activations == ActivationPrecision::Fp32 && isa == Isa::Avx2)
    return "each row decoded once, every token gathered from it";
  if (activations == ActivationPrecision::Fp32 && batch >= kRowBlockBatch)
    return "blocks of 8 rows walked chunk by chunk, every token through each decoded chunk";
  return batch >= kRowBlockBatch ? "blocks of 4 rows decoded into L1, tiles of 4 tokens"
                                 : "each row's chunks decoded into registers, tiles of up to 8 tokens";
}

std::string NmGemmPath::activation_text() const {
  return isa == Isa::Reference ? std::string("fp32") : activation_precision_name(activations);
}

}  // namespace nmscope::kernels
