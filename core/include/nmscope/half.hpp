#pragma once
// IEEE fp16 / bf16 conversions, shared by the packer, the readers and the writers. Widening reads a 65536-entry
// table (one load per element, exact for every bit pattern, no F16C needed); narrowing rounds to nearest even
// through Eigen's tested conversions.
#include <bit>
#include <cstdint>

#include <Eigen/Core>

namespace nmscope {

// Exact fp16 -> fp32 for every bit pattern (subnormals, infinities, NaN payloads). Built once, thread-safe.
const float* fp16_to_fp32_table();

inline float half_bits_to_float(uint16_t bits) { return fp16_to_fp32_table()[bits]; }
inline float bf16_bits_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
// Round to nearest even; overflow -> inf; NaN stays NaN.
inline uint16_t float_to_half_bits(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value)); }
inline uint16_t float_to_bf16_bits(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value)); }

}  // namespace nmscope
