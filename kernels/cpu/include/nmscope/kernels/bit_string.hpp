#pragma once
// LSB-first bit strings of docs/packed-format.md ("values" and "metadata" buffers): slot `slot` of width `bits`
// (<= 16) occupies bits [slot*bits, (slot+1)*bits) of the row; bit t is bit t % 8 of byte t / 8. Shared by the
// packer in core, every kernel's scalar path and the tests. Inline: they run once per stored weight.
#include <cstdint>

namespace nmscope {

inline uint32_t read_bits(const uint8_t* row, int64_t slot, int bits) {
  const int64_t first_bit = slot * bits;
  const int64_t first_byte = first_bit / 8;
  const int shift = int(first_bit % 8);
  const int bytes = (shift + bits + 7) / 8;  // at most 3
  uint32_t window = 0;
  for (int index = 0; index < bytes; ++index) window |= uint32_t(row[first_byte + index]) << (8 * index);
  return (window >> shift) & ((1u << bits) - 1);
}

// The row must start zeroed: slots are OR-ed in.
inline void write_bits(uint8_t* row, int64_t slot, int bits, uint32_t value) {
  const int64_t first_bit = slot * bits;
  const int64_t first_byte = first_bit / 8;
  const int shift = int(first_bit % 8);
  const int bytes = (shift + bits + 7) / 8;
  const uint32_t window = (value & ((1u << bits) - 1)) << shift;
  for (int index = 0; index < bytes; ++index) row[first_byte + index] |= uint8_t(window >> (8 * index));
}

}  // namespace nmscope
