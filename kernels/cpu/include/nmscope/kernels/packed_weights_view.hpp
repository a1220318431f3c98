#pragma once
// The packed N:M low-bit weight format of docs/packed-format.md as plain buffers: what every CPU kernel reads.
// W is [rows = N_out, cols = K]; y = x W^T. Slots are N per group of M along K; values and metadata are LSB-first
// bit strings per row; scales are fp16 [scale_rows, scales_per_row]; zero points (asymmetric only) one byte each.
#include <cstdint>

#include "nmscope/kernels/bit_string.hpp"

namespace nmscope::kernels {

struct PackedWeightsView {
  int64_t rows = 0;
  int64_t cols = 0;
  int kept_per_group = 1;        // N
  int group_size = 1;            // M (1 = dense)
  int bits = 4;                  // 2..8 (fp16 weights are not a kernel format)
  int metadata_bits = 0;         // ceil(log2 M), 0 when N == M
  int64_t slots_per_row = 0;     // ceil(K / M) * N
  int64_t value_row_bytes = 0;
  int64_t metadata_row_bytes = 0;
  const uint8_t* values = nullptr;
  const uint8_t* metadata = nullptr;
  const uint16_t* scales = nullptr;  // fp16 bits
  int64_t scale_rows = 0;            // rows, or 1 for one scale per tensor
  int64_t scales_per_row = 0;
  int quant_group = 0;               // columns per scale; 0 = one scale per row (channel) or tensor
  const uint8_t* zero_points = nullptr;  // null: symmetric, z = 2^(bits-1)

  int64_t scale_index(int64_t row, int64_t column) const {
    const int64_t scale_row = scale_rows == 1 ? 0 : row;
    return scale_row * scales_per_row + (quant_group > 0 ? column / quant_group : 0);
  }
  int zero_point(int64_t scale_index_value) const {
    return zero_points ? zero_points[scale_index_value] : 1 << (bits - 1);
  }
  // Where slot `slot` of `row` sits inside its group of M (packed-format.md, "Metadata"): the position the metadata
  // stores, or the slot's index in the group when N == M (no metadata).
  int64_t position_of(int64_t row, int64_t slot) const {
    return metadata_bits > 0 ? int64_t(read_bits(metadata + row * metadata_row_bytes, slot, metadata_bits))
                             : slot % kept_per_group;
  }
  // The column of W that slot `slot` of `row` holds; a column >= cols is tail padding and holds no weight.
  int64_t column_of(int64_t row, int64_t slot) const {
    return slot / kept_per_group * group_size + position_of(row, slot);
  }
};

}  // namespace nmscope::kernels
