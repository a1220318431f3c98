#pragma once
// The integer grid of docs/conventions.md in one place: the range of kept weights under one scale, the fp16 scale and
// zero point chosen from it, and the code of a weight. compress() and the second-order compressors (SparseGPT/GPTQ,
// which quantize column by column inside their update loop) must round identically, so both use these.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "nmscope/half.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

constexpr uint16_t kLargestFiniteHalf = 0x7BFF;

// The range of kept weights under one scale. Starting at 0 widens every range to include 0, which the asymmetric
// grid needs so that a pruned zero is exact; for the symmetric grid only absmax() is used, which 0 cannot change.
struct KeptRange {
  float lo = 0;
  float hi = 0;
  void add(float value) {
    lo = std::min(lo, value);
    hi = std::max(hi, value);
  }
  void merge(const KeptRange& other) {
    lo = std::min(lo, other.lo);
    hi = std::max(hi, other.hi);
  }
  float absmax() const { return std::max(hi, -lo); }
};

struct ScaleAndZero {
  uint16_t scale_bits = 0;
  int zero = 0;
};

inline ScaleAndZero choose_scale(const KeptRange& range, const QuantConfig& quant) {
  const int levels = (1 << quant.bits) - 1;
  const double real_scale = quant.symmetric ? double(range.absmax()) / double((1 << (quant.bits - 1)) - 1)
                                            : (double(range.hi) - double(range.lo)) / double(levels);
  ScaleAndZero result;
  result.scale_bits = float_to_half_bits(float(real_scale));
  if (!std::isfinite(half_bits_to_float(result.scale_bits))) result.scale_bits = kLargestFiniteHalf;
  const double scale = half_bits_to_float(result.scale_bits);
  if (quant.symmetric) {
    result.zero = 1 << (quant.bits - 1);
  } else if (scale > 0) {
    result.zero = int(std::clamp(std::round(-double(range.lo) / scale), 0.0, double(levels)));
  }
  return result;
}

// std::round (half away from zero) without the library call, so the packing loops stay inline: x - trunc(x) is exact
// for every double, and the result equals std::round(x) for every x.
inline double round_half_away(double x) {
  const double whole = std::trunc(x);
  return std::fabs(x - whole) >= 0.5 ? whole + std::copysign(1.0, x) : whole;
}

// The code of a weight under a scale already decoded from fp16 (`scale` = half_bits_to_float(scale_bits)).
inline uint32_t quantize_code(float weight, double scale, int zero, int bits) {
  if (scale == 0) return uint32_t(zero);
  const double levels = double((1 << bits) - 1);
  const double code = round_half_away(double(weight) / scale) + zero;
  return uint32_t(std::clamp(code, 0.0, levels));
}

inline uint32_t quantize_code(float weight, const ScaleAndZero& scale_and_zero, int bits) {
  return quantize_code(weight, double(half_bits_to_float(scale_and_zero.scale_bits)), scale_and_zero.zero, bits);
}

// The weight a code decodes to, exactly as every engine decodes it (docs/packed-format.md, "Decoding a slot").
inline float dequantize_code(uint32_t code, const ScaleAndZero& scale_and_zero) {
  return float(int(code) - scale_and_zero.zero) * half_bits_to_float(scale_and_zero.scale_bits);
}

}  // namespace nmscope
