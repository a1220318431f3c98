#include <array>
#include <memory>

#include "nmscope/half.hpp"

namespace nmscope {

namespace {

// Written from the IEEE 754 binary16 layout rather than taken from Eigen, so the table does not depend on which
// conversion path (F16C or software) Eigen picked at compile time.
float decode_fp16_bits(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  // Subnormal (or zero): mantissa * 2^-24, exact in fp32.
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
  return sign ? -magnitude : magnitude;
}

}  // namespace

const float* fp16_to_fp32_table() {
  static const std::unique_ptr<std::array<float, 65536>> table = [] {
    auto values = std::make_unique<std::array<float, 65536>>();
    for (uint32_t bits = 0; bits < 65536; ++bits) (*values)[bits] = decode_fp16_bits(static_cast<uint16_t>(bits));
    return values;
  }();
  return table->data();
}

}  // namespace nmscope
