#pragma once
// 16-bit float conversions shared by decode and the writers. Reading goes through a 65536-entry table (one load per
// element beats bit manipulation and needs no F16C); writing rounds to nearest even via Eigen's tested conversions.
#include <bit>
#include <cstdint>

namespace nmscope::io {

// Exact fp16 -> fp32 for every bit pattern (subnormals, infinities, NaN payloads). Built once, thread-safe.
const float* fp16_to_fp32_table();

inline float bf16_to_fp32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t fp32_to_fp16(float value);  // round to nearest even; overflow -> inf; NaN stays NaN
uint16_t fp32_to_bf16(float value);  // round to nearest even; NaN stays NaN

}  // namespace nmscope::io
