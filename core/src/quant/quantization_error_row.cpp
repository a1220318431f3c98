#include "quant/quantization_error_row.hpp"

#include <algorithm>
#include <cstring>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "nmscope/error.hpp"
#include "nmscope/half.hpp"
#include "quant/quant_grid.hpp"

namespace nmscope {

namespace {

// Eight lanes in GCC's vector extensions: the arithmetic below is written once, per lane exactly as the scalar
// compress() and dequantize() write it, and the compiler picks the instructions (AVX-512, AVX2 or SSE).
using Double8 = double __attribute__((vector_size(64)));
using Float8 = float __attribute__((vector_size(32)));
using Int8 = int32_t __attribute__((vector_size(32)));
using Long8 = int64_t __attribute__((vector_size(64)));

template <typename Vector, typename Scalar>
Vector load(const Scalar* at) {
  Vector value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

// Eight floats widened to double. GCC 12 splits the generic conversion into two 4-lane halves and a shuffle (perf:
// a fifth of this file's time), so AVX-512 gets the one instruction.
Double8 widen(const float* at) {
#ifdef __AVX512F__
  const __m512d wide = _mm512_cvtps_pd(_mm256_loadu_ps(at));
  Double8 value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
#else
  return __builtin_convertvector(load<Float8>(at), Double8);
#endif
}

// double(int32_t(v)) per lane for |v| <= 2^30: truncation toward zero. The generic form goes through two 4-lane
// conversions; AVX-512 rounds in place.
Double8 truncate(Double8 value) {
#ifdef __AVX512F__
  __m512d packed;
  std::memcpy(&packed, &value, sizeof packed);
  const __m512d whole = _mm512_roundscale_pd(packed, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  std::memcpy(&value, &whole, sizeof value);
  return value;
#else
  return __builtin_convertvector(__builtin_convertvector(value, Int8), Double8);
#endif
}

bool kept_at(const uint8_t* kept_bits, int64_t col) { return (kept_bits[col >> 3] >> (col & 7)) & 1; }

// The keep bits of columns col..col+7 (any col: two bytes read, the mask rows carry a padding byte).
unsigned kept_byte(const uint8_t* kept_bits, int64_t col) {
  const unsigned pair = unsigned(kept_bits[col >> 3]) | (unsigned(kept_bits[(col >> 3) + 1]) << 8);
  return (pair >> (col & 7)) & 0xffu;
}

constexpr Int8 kLaneBits32 = {1, 2, 4, 8, 16, 32, 64, 128};
constexpr Long8 kLaneBits64 = {1, 2, 4, 8, 16, 32, 64, 128};

// The KeptRange of the kept weights of [first, end): eight lanes of min / max, then the lanes. A pruned weight enters
// as 0, which changes no range (every range starts at 0). Minimum and maximum are exact in any order, and no lane
// takes -0 over +0 (`value < lo` is false for it), so the range is KeptRange::add's in column order.
KeptRange kept_range(const float* weights, const uint8_t* kept_bits, int64_t first, int64_t end) {
  Float8 lo = {}, hi = {};
  int64_t col = first;
  for (; col + 8 <= end; col += 8) {
    const Int8 keep = ((Int8{} + int32_t(kept_byte(kept_bits, col))) & kLaneBits32) != 0;
    const Float8 value = keep ? load<Float8>(weights + col) : Float8{};
    lo = value < lo ? value : lo;
    hi = hi < value ? value : hi;
  }
  // Lanes folded in halves (8 -> 4 -> 2 -> 1) with the same selects.
  Float8 swapped = __builtin_shufflevector(lo, lo, 4, 5, 6, 7, 0, 1, 2, 3);
  lo = swapped < lo ? swapped : lo;
  swapped = __builtin_shufflevector(hi, hi, 4, 5, 6, 7, 0, 1, 2, 3);
  hi = hi < swapped ? swapped : hi;
  swapped = __builtin_shufflevector(lo, lo, 2, 3, 0, 1, 6, 7, 4, 5);
  lo = swapped < lo ? swapped : lo;
  swapped = __builtin_shufflevector(hi, hi, 2, 3, 0, 1, 6, 7, 4, 5);
  hi = hi < swapped ? swapped : hi;
  swapped = __builtin_shufflevector(lo, lo, 1, 0, 3, 2, 5, 4, 7, 6);
  lo = swapped < lo ? swapped : lo;
  swapped = __builtin_shufflevector(hi, hi, 1, 0, 3, 2, 5, 4, 7, 6);
  hi = hi < swapped ? swapped : hi;
  KeptRange range;
  range.add(lo[0]);
  range.add(hi[0]);
  for (; col < end; ++col)
    if (kept_at(kept_bits, col)) range.add(weights[col]);
  return range;
}

// One column under a scale: compress()'s encode (quotient bounded to +-2^30, truncation, half away from zero, zero
// point, clamp to the grid) and dequantize()'s decode, minus the weight; a pruned column gives 0 - w.
double column_difference(float weight_value, bool kept, double divisor, float scale, int zero, double levels) {
  const double weight = double(weight_value);
  double value = weight / divisor;
  value = value < -0x1p30 ? -0x1p30 : value;
  value = value > 0x1p30 ? 0x1p30 : value;
  const double whole = double(int32_t(value));
  const double fraction = value - whole;
  double code = whole + (double(fraction >= 0.5) - double(fraction <= -0.5)) + double(zero);
  code = code < 0.0 ? 0.0 : code;
  code = code > levels ? levels : code;
  const float decoded = float(int32_t(code) - zero) * scale;
  return double(kept ? decoded : 0.0f) - weight;
}

// column_difference over [first, end), eight columns at a time. Two changes that keep every bit:
// - The decode float(code - z) * s is exact (an integer of at most 9 bits times an fp16 value: at most 20 significant
//   bits, far from float's range limits), so it is computed in double as (code - z) * s with the same result.
// - The quotient is w times the reciprocal of the scale instead of w / s (the division was the larger part of the
//   time): |r - w/s| <= 2^-22 for every quotient under the 2^30 bound, and w/s lies either exactly on a half-integer
//   or at least |w/s| 2^-25 from every one (w has 24 significant bits, s 11), so the rounded code can differ only
//   where r comes within 2^-20 of a half-integer. Such a run returns false, and the caller codes it again by division.
template <bool kByDivision>
bool code_and_decode(const float* weights, const uint8_t* kept_bits, int64_t first, int64_t end, float scale, int zero,
                     double levels, double* difference) {
  const double divisor = double(scale);
  const double reciprocal = 1.0 / divisor;
  const double zero_code = double(zero);
  Long8 near_half = {};
  int64_t col = first;
  for (; col + 8 <= end; col += 8) {
    const Double8 weight = widen(weights + col);
    Double8 value = kByDivision ? weight / divisor : weight * reciprocal;
    value = value < -0x1p30 ? Double8{} - 0x1p30 : value;
    value = value > 0x1p30 ? Double8{} + 0x1p30 : value;
    const Double8 whole = truncate(value);
    const Double8 fraction = value - whole;
    if (!kByDivision) {
      const Double8 distance = (fraction < 0.0 ? -fraction : fraction) - 0.5;
      near_half |= (distance < 0x1p-20) & (distance > -0x1p-20);
    }
    const Double8 up = fraction >= 0.5 ? Double8{} + 1.0 : Double8{};
    const Double8 down = fraction <= -0.5 ? Double8{} + 1.0 : Double8{};
    Double8 code = whole + (up - down) + zero_code;
    code = code < 0.0 ? Double8{} : code;
    code = code > levels ? Double8{} + levels : code;
    const Long8 keep = ((Long8{} + int64_t(kept_byte(kept_bits, col))) & kLaneBits64) != 0;
    const Double8 approximation = keep ? (code - zero_code) * divisor : Double8{};
    const Double8 result = approximation - weight;
    std::memcpy(difference + col, &result, sizeof result);
  }
  for (; col < end; ++col)
    difference[col] = column_difference(weights[col], kept_at(kept_bits, col), divisor, scale, zero, levels);
  if (kByDivision) return true;
  for (int lane = 0; lane < 8; ++lane)
    if (near_half[lane]) return false;
  return true;
}

}  // namespace

void quantization_error_row(const float* weights, const uint8_t* kept_bits, int64_t cols, const QuantConfig& quant,
                            double* difference) {
  if (quant.is_fp16()) {
    for (int64_t col = 0; col < cols; ++col) {
      const float decoded = kept_at(kept_bits, col) ? half_bits_to_float(float_to_half_bits(weights[col])) : 0.0f;
      difference[col] = double(decoded) - double(weights[col]);
    }
    return;
  }
  if (quant.granularity == Granularity::Tensor)
    throw Error("quantization_error_row", "per-tensor scales span rows; measure the whole matrix");
  const int64_t span = quant.granularity == Granularity::Group ? int64_t(quant.group) : cols;
  const double levels = double((1 << quant.bits) - 1);
  for (int64_t first = 0; first < cols; first += span) {
    const int64_t end = std::min(cols, first + span);
    const ScaleAndZero scale_and_zero = choose_scale(kept_range(weights, kept_bits, first, end), quant);
    const float scale = half_bits_to_float(scale_and_zero.scale_bits);
    if (scale == 0) {
      // compress() codes every weight under a zero scale to the zero point, which decodes to 0.
      for (int64_t col = first; col < end; ++col) difference[col] = double(0.0f) - double(weights[col]);
      continue;
    }
    if (!code_and_decode<false>(weights, kept_bits, first, end, scale, scale_and_zero.zero, levels, difference))
      code_and_decode<true>(weights, kept_bits, first, end, scale, scale_and_zero.zero, levels, difference);
  }
}

}  // namespace nmscope
