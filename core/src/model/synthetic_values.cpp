// Box-Muller and Laplace in float with this file's own log, sine and cosine (cephes-style polynomials) in plain IEEE
// arithmetic. Compiled with -ffp-contract=off (core/CMakeLists.txt): no fused multiply-adds, so the values are the
// same bits on every machine and for every vector width the compiler chooses, and independent of the C library,
// whose logf/sincosf differ between versions. The loops are written branch-free so they vectorize: a LLaMA-7B
// preset is 6.5 G values, and libm's sincos alone took ~15 ns a value.
#include "model/synthetic_values.hpp"

#include <bit>
#include <cstdint>

namespace nmscope::synthetic {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// splitmix64 at counter `index` of the stream `seed`: PortableRandom(seed)'s (index+1)-th draw.
inline uint64_t draw(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Natural log of x in (0, 1]: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by cephes' logf polynomial
// (relative error ~1e-7).
inline float log_unit(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  int exponent = int((bits >> 23) & 0xff) - 126;
  float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool low = m < 0.70710678f;
  exponent -= low ? 1 : 0;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float e = float(exponent);
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

// sin and cos of x in [0, pi/2] by their Taylor series to x^11 and x^12 (error < 6e-8 there).
inline void sincos_quarter(float x, float& sine, float& cosine) {
  const float x2 = x * x;
  float s = -2.5052108e-8f;
  s = s * x2 + 2.7557319e-6f;
  s = s * x2 - 1.9841270e-4f;
  s = s * x2 + 8.3333333e-3f;
  s = s * x2 - 1.6666667e-1f;
  sine = x + x * x2 * s;
  float c = 2.0876757e-9f;
  c = c * x2 - 2.7557319e-7f;
  c = c * x2 + 2.4801587e-5f;
  c = c * x2 - 1.3888889e-3f;
  c = c * x2 + 4.1666667e-2f;
  c = c * x2 - 0.5f;
  cosine = 1.0f + x2 * c;
}

// IEEE-exact; -fno-math-errno (core/CMakeLists.txt) drops the errno branch that would stop the loops vectorizing.
inline float sqrt_nonnegative(float x) { return __builtin_sqrtf(x); }

// The pair (r cos t, r sin t) of Box-Muller from one draw.
inline void normal_pair(uint64_t bits, float& first, float& second) {
  // u1 = (2k + 1) / 2^24 with k < 2^23: exact in float and never 0.
  const float u1 = float(((bits >> 41) << 1) | 1u) * 0x1p-24f;
  const uint32_t angle = uint32_t(bits >> 16) & 0xffffffu;  // 24 bits: 2 for the quadrant, 22 within it
  const uint32_t quadrant = angle >> 22;
  const float phi = float(angle & 0x3fffffu) * (0x1p-22f * 1.57079632679f);
  const float radius = sqrt_nonnegative(-2.0f * log_unit(u1));
  float s, c;
  sincos_quarter(phi, s, c);
  // Rotate (cos phi, sin phi) by quadrant * pi/2: odd quadrants swap the two, and the signs flip by sign-bit masks
  // (cos < 0 in quadrants 1 and 2, sin < 0 in 2 and 3), without branches.
  const bool odd = quadrant & 1u;
  const float cos_magnitude = odd ? s : c;
  const float sin_magnitude = odd ? c : s;
  const float cos_t = std::bit_cast<float>(std::bit_cast<uint32_t>(cos_magnitude) ^ (((quadrant + 1) & 2u) << 30));
  const float sin_t = std::bit_cast<float>(std::bit_cast<uint32_t>(sin_magnitude) ^ ((quadrant & 2u) << 30));
  first = radius * cos_t;
  second = radius * sin_t;
}

}  // namespace

void fill_normal(float* out, int64_t count, uint64_t seed) {
  const int64_t pairs = count / 2;
  // Counter 0 of every row stream is left to normal_at (the row's scale); values start at counter 1. Two vectors of
  // pairs per iteration: the polynomials are chains of dependent multiplies and adds, and a second independent chain
  // fills their latency (perf: the loop was latency-bound). Each value's arithmetic, hence its bits, is unchanged.
#pragma GCC unroll 2
  for (int64_t pair = 0; pair < pairs; ++pair) {
    float first, second;
    normal_pair(draw(seed, uint64_t(pair) + 1), first, second);
    out[2 * pair] = first;
    out[2 * pair + 1] = second;
  }
  if (count % 2) {
    float first, second;
    normal_pair(draw(seed, uint64_t(pairs) + 1), first, second);
    out[count - 1] = first;
  }
}

void fill_laplace(float* out, int64_t count, uint64_t seed) {
  // Inverse CDF: v uniform in (-1/2, 1/2), x = -sign(v) log(1 - 2|v|), scaled by 1/sqrt(2) to unit variance.
  for (int64_t index = 0; index < count; ++index) {
    const uint64_t bits = draw(seed, uint64_t(index) + 1);
    const float magnitude = float(((bits >> 41) << 1) | 1u) * 0x1p-24f;  // 1 - 2|v| in (0, 1)
    const float value = -log_unit(magnitude) * 0.70710678f;
    out[index] = (bits & 1) ? -value : value;
  }
}

float normal_at(uint64_t seed, uint64_t index) {
  float first, second;
  normal_pair(draw(seed, index), first, second);
  return first;
}

}  // namespace nmscope::synthetic
