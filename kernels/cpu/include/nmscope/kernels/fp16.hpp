#pragma once
// IEEE binary16 -> binary32, exact for every bit pattern (subnormals, infinities, NaN payloads), written from the
// format's layout so it needs no F16C. The one fp16 decoder of the project: core's lookup table is built from it.
#include <bit>
#include <cstdint>

namespace nmscope {

constexpr float fp16_bits_to_float_exact(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  // Subnormal (or zero): mantissa * 2^-24, exact in fp32.
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
  return sign ? -magnitude : magnitude;
}

}  // namespace nmscope
