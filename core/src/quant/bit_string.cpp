// LSB-first bit strings, the layout of docs/packed-format.md ("values" and "metadata" buffers).
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

uint32_t read_bits(const uint8_t* row, int64_t slot, int bits) {
  const int64_t first_bit = slot * bits;
  const int64_t first_byte = first_bit / 8;
  const int shift = int(first_bit % 8);
  const int bytes = (shift + bits + 7) / 8;  // at most 3 for bits <= 16
  uint32_t window = 0;
  for (int index = 0; index < bytes; ++index) window |= uint32_t(row[first_byte + index]) << (8 * index);
  return (window >> shift) & ((1u << bits) - 1);
}

// The row must start zeroed: slots are OR-ed in.
void write_bits(uint8_t* row, int64_t slot, int bits, uint32_t value) {
  const int64_t first_bit = slot * bits;
  const int64_t first_byte = first_bit / 8;
  const int shift = int(first_bit % 8);
  const int bytes = (shift + bits + 7) / 8;
  const uint32_t window = (value & ((1u << bits) - 1)) << shift;
  for (int index = 0; index < bytes; ++index) row[first_byte + index] |= uint8_t(window >> (8 * index));
}

}  // namespace nmscope
