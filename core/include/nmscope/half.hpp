#pragma once
// IEEE fp16 / bf16 bit conversions (round to nearest even), shared by the packer, the readers and the writers.
#include <cstdint>

#include <Eigen/Core>

namespace nmscope {

inline uint16_t float_to_half_bits(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value)); }
inline float half_bits_to_float(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
}
inline uint16_t float_to_bf16_bits(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value)); }
inline float bf16_bits_to_float(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
}

}  // namespace nmscope
