// Quantize + pack and the inverse, exactly as docs/packed-format.md and docs/conventions.md specify.
#include "nmscope/packed_matrix.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

#include "nmscope/error.hpp"
#include "nmscope/half.hpp"
#include "nmscope/kernels/bit_string.hpp"
#include "quant/quant_grid.hpp"

namespace nmscope {

namespace {

void set_shape(PackedMatrix& packed, int64_t rows, int64_t cols, const NMPattern& pattern, const QuantConfig& quant) {
  packed.rows = rows;
  packed.cols = cols;
  packed.pattern = pattern;
  packed.quant = quant;
  packed.groups_per_row = (cols + pattern.group_size - 1) / pattern.group_size;
  packed.slots_per_row = packed.groups_per_row * pattern.kept_per_group;
  packed.value_row_bytes = (packed.slots_per_row * quant.bits + 7) / 8;
  packed.metadata_row_bytes = (packed.slots_per_row * pattern.metadata_bits() + 7) / 8;
  if (quant.is_fp16()) return;
  switch (quant.granularity) {
    case Granularity::Tensor:
      packed.scale_rows = 1;
      packed.scales_per_row = 1;
      break;
    case Granularity::Channel:
      packed.scale_rows = packed.rows;
      packed.scales_per_row = 1;
      break;
    case Granularity::Group:
      packed.scale_rows = packed.rows;
      packed.scales_per_row = (packed.cols + quant.group - 1) / quant.group;
      break;
  }
}

// The original column of every slot of one row (tail padding gives columns >= cols): computed once per row instead of
// a division per slot.
void row_columns(const NMSelection& selection, int64_t row, int64_t* columns) {
  const int64_t slots = selection.slots_per_row();
  if (selection.kept_positions.empty()) {
    for (int64_t slot = 0; slot < slots; ++slot) columns[slot] = slot;
    return;
  }
  const uint8_t* positions = selection.kept_positions.data() + row * slots;
  const int kept = selection.pattern.kept_per_group, group_size = selection.pattern.group_size;
  for (int64_t group = 0, slot = 0; group < selection.groups_per_row; ++group)
    for (int index = 0; index < kept; ++index, ++slot) columns[slot] = group * group_size + positions[slot];
}

// The scale index of every slot of one row (padding takes the row's last scale), from the ascending columns: a running
// boundary instead of a division per slot.
void row_scale_indices(const PackedMatrix& packed, const int64_t* columns, int64_t* indices) {
  if (packed.quant.granularity != Granularity::Group) {
    for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) indices[slot] = 0;
    return;
  }
  int64_t scale = 0, boundary = packed.quant.group;
  for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
    const int64_t col = std::min(columns[slot], packed.cols - 1);
    while (col >= boundary) {
      ++scale;
      boundary += packed.quant.group;
    }
    indices[slot] = scale;
  }
}

// How many consecutive slots of a row share one scale: per tensor or channel the whole row, per group of g columns
// g / M groups of N slots when M divides g (groups of M never straddle two scales then; the tail group's padding falls
// under the row's last scale, as the format wants). 0 when slots must look their scale up one by one.
int64_t slots_per_scale(const PackedMatrix& packed) {
  if (packed.quant.is_fp16()) return 0;
  if (packed.quant.granularity != Granularity::Group) return packed.slots_per_row;
  if (packed.quant.group % packed.pattern.group_size != 0) return 0;
  return int64_t(packed.quant.group / packed.pattern.group_size) * packed.pattern.kept_per_group;
}

// Codes of one row into its LSB-first bit string (docs/packed-format.md); 2, 4 and 8 bits fill whole bytes directly,
// other widths go slot by slot. The row starts zeroed.
template <typename Code>
void pack_codes(uint8_t* row, const Code* codes, int64_t count, int bits) {
  if (bits == 8) {
    for (int64_t slot = 0; slot < count; ++slot) row[slot] = uint8_t(codes[slot]);
  } else if (bits == 4) {
    for (int64_t pair = 0; pair < count / 2; ++pair)
      row[pair] = uint8_t(codes[2 * pair] & 0xf) | uint8_t((codes[2 * pair + 1] & 0xf) << 4);
    if (count % 2) row[count / 2] = uint8_t(codes[count - 1] & 0xf);
  } else if (bits == 2) {
    for (int64_t quad = 0; quad < count / 4; ++quad)
      row[quad] = uint8_t((codes[4 * quad] & 3) | ((codes[4 * quad + 1] & 3) << 2) | ((codes[4 * quad + 2] & 3) << 4) |
                          ((codes[4 * quad + 3] & 3) << 6));
    for (int64_t slot = count / 4 * 4; slot < count; ++slot) write_bits(row, slot, bits, codes[slot]);
  } else {
    for (int64_t slot = 0; slot < count; ++slot) write_bits(row, slot, bits, codes[slot]);
  }
}

template <typename Code>
void unpack_codes(const uint8_t* row, Code* codes, int64_t count, int bits) {
  if (bits == 8) {
    for (int64_t slot = 0; slot < count; ++slot) codes[slot] = row[slot];
  } else if (bits == 4) {
    for (int64_t slot = 0; slot < count; ++slot) codes[slot] = Code((row[slot / 2] >> (4 * (slot % 2))) & 0xf);
  } else if (bits == 2) {
    for (int64_t slot = 0; slot < count; ++slot) codes[slot] = Code((row[slot / 4] >> (2 * (slot % 4))) & 3);
  } else {
    for (int64_t slot = 0; slot < count; ++slot) codes[slot] = Code(read_bits(row, slot, bits));
  }
}

void pack_metadata(PackedMatrix& packed, const NMSelection& selection) {
  const int bits = selection.pattern.metadata_bits();
  if (bits == 0) return;
  packed.metadata.assign(size_t(packed.rows * packed.metadata_row_bytes), 0);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      uint8_t* out = packed.metadata.data() + row * packed.metadata_row_bytes;
      const uint8_t* positions = selection.kept_positions.data() + row * packed.slots_per_row;
      pack_codes(out, positions, packed.slots_per_row, bits);
    }
  });
}

void pack_fp16_values(PackedMatrix& packed, const MatrixF& weights, const NMSelection& selection) {
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      uint8_t* out = packed.values.data() + row * packed.value_row_bytes;
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
        const int64_t col = selection.column(row, slot);
        const uint16_t half = col < packed.cols ? float_to_half_bits(weights(row, col)) : 0;
        out[2 * slot] = uint8_t(half);
        out[2 * slot + 1] = uint8_t(half >> 8);
      }
    }
  });
}

}  // namespace

int PackedMatrix::zero_point(int64_t scale_row, int64_t scale_index) const {
  if (quant.symmetric) return 1 << (quant.bits - 1);
  return zero_points[size_t(scale_row * scales_per_row + scale_index)];
}

PackedMatrix compress(const MatrixF& weights, const NMSelection& selection, const QuantConfig& quant,
                      const MatrixF* scale_weights) {
  quant.validate();
  if (weights.rows() != selection.rows || weights.cols() != selection.cols)
    throw Error("compress", "selection shape does not match the weights");
  if (scale_weights && (scale_weights->rows() != weights.rows() || scale_weights->cols() != weights.cols()))
    throw Error("compress", "scale weights shape does not match the weights");
  const MatrixF& range_weights = scale_weights ? *scale_weights : weights;
  PackedMatrix packed;
  set_shape(packed, selection.rows, selection.cols, selection.pattern, quant);
  packed.values.assign(size_t(packed.rows * packed.value_row_bytes), 0);
  pack_metadata(packed, selection);
  if (quant.is_fp16()) {
    pack_fp16_values(packed, weights, selection);
    return packed;
  }

  // Per row: the kept columns and their scale indices, then (unless one scale spans the tensor) the row's ranges and
  // scales, then the codes. Scratch rows are per thread, so nothing is allocated per row, and a row is read while it
  // is in cache. Per-tensor scales need every row's range first: one reduction pass, then the codes pass.
  struct RowScratch {
    std::vector<int64_t> columns, scale_of;
    std::vector<float> kept;
    std::vector<double> quotient;  // scale per slot, then the quotient, then the rounded quotient
    std::vector<int32_t> zero, codes;
    std::vector<KeptRange> ranges;
    std::vector<ScaleAndZero> scales;
    std::vector<double> scale_values;  // each scale decoded from fp16 once per row
  };
  const size_t slots = size_t(packed.slots_per_row);
  tbb::enumerable_thread_specific<RowScratch> scratch_rows([&] {
    RowScratch scratch;
    scratch.columns.resize(slots);
    scratch.scale_of.resize(slots);
    scratch.kept.resize(slots);
    scratch.quotient.resize(slots);
    scratch.zero.resize(slots);
    scratch.codes.resize(slots);
    scratch.ranges.resize(size_t(packed.scales_per_row));
    scratch.scales.resize(size_t(packed.scales_per_row));
    scratch.scale_values.resize(size_t(packed.scales_per_row));
    return scratch;
  });
  const int64_t per_scale = slots_per_scale(packed);
  auto locate_row = [&](int64_t row, RowScratch& scratch) {
    row_columns(selection, row, scratch.columns.data());
    if (per_scale == 0) row_scale_indices(packed, scratch.columns.data(), scratch.scale_of.data());
  };
  auto accumulate_row = [&](int64_t row, const RowScratch& scratch, KeptRange* row_ranges) {
    const float* weight_row = range_weights.data() + row * packed.cols;
    if (per_scale > 0) {
      const bool one_scale = quant.granularity == Granularity::Tensor;
      for (size_t first = 0, index = 0; first < slots; first += size_t(per_scale), ++index) {
        KeptRange& range = row_ranges[one_scale ? 0 : index];
        const size_t end = std::min(slots, first + size_t(per_scale));
        for (size_t slot = first; slot < end; ++slot)
          if (scratch.columns[slot] < packed.cols) range.add(weight_row[scratch.columns[slot]]);
      }
      return;
    }
    for (size_t slot = 0; slot < slots; ++slot) {
      const int64_t col = scratch.columns[slot];
      if (col < packed.cols) row_ranges[scratch.scale_of[slot]].add(weight_row[col]);
    }
  };
  // Codes of one row: gather each slot's weight, scale and zero point (padding: weight 0 under the row's last scale,
  // which codes to its zero point and decodes to exactly zero), then quantize_code's arithmetic (quant_grid.hpp) in
  // three loops that GCC vectorizes (one loop with all of it, or with trunc(), it will not): the quotient is bounded
  // to +-2^30 first, beyond which every code clamps to the grid's end anyway, so truncation is an integer conversion;
  // then half away from zero; then zero point and clamp.
  const double levels = double((1 << quant.bits) - 1);
  auto encode_row = [&](int64_t row, RowScratch& scratch, const ScaleAndZero* row_scales) {
    const float* weight_row = weights.data() + row * packed.cols;
    const size_t row_scale_count = quant.granularity == Granularity::Tensor ? 1 : size_t(packed.scales_per_row);
    for (size_t index = 0; index < row_scale_count; ++index)
      scratch.scale_values[index] = half_bits_to_float(row_scales[index].scale_bits);
    // A zero scale codes every weight under it to the zero point: weight 0 over scale 1 does just that.
    if (per_scale > 0) {
      for (size_t first = 0, index = 0; first < slots; first += size_t(per_scale), ++index) {
        const double scale = scratch.scale_values[index];
        const int zero = row_scales[index].zero;
        const size_t end = std::min(slots, first + size_t(per_scale));
        for (size_t slot = first; slot < end; ++slot) {
          const int64_t col = scratch.columns[slot];
          scratch.kept[slot] = col < packed.cols && scale != 0 ? weight_row[col] : 0.0f;
          scratch.quotient[slot] = scale != 0 ? scale : 1.0;
          scratch.zero[slot] = zero;
        }
      }
    } else {
      for (size_t slot = 0; slot < slots; ++slot) {
        const int64_t col = scratch.columns[slot];
        const ScaleAndZero& scale_and_zero = row_scales[scratch.scale_of[slot]];
        const double scale = scratch.scale_values[size_t(scratch.scale_of[slot])];
        scratch.kept[slot] = col < packed.cols && scale != 0 ? weight_row[col] : 0.0f;
        scratch.quotient[slot] = scale != 0 ? scale : 1.0;
        scratch.zero[slot] = scale_and_zero.zero;
      }
    }
    double* quotient = scratch.quotient.data();
    const float* kept = scratch.kept.data();
    for (size_t slot = 0; slot < slots; ++slot) {
      double value = double(kept[slot]) / quotient[slot];
      value = value < -0x1p30 ? -0x1p30 : value;
      value = value > 0x1p30 ? 0x1p30 : value;
      quotient[slot] = value;
    }
    for (size_t slot = 0; slot < slots; ++slot) {
      const double value = quotient[slot];
      const double whole = double(int32_t(value));
      const double fraction = value - whole;
      quotient[slot] = whole + (double(fraction >= 0.5) - double(fraction <= -0.5));
    }
    const int32_t* zero = scratch.zero.data();
    int32_t* codes = scratch.codes.data();
    for (size_t slot = 0; slot < slots; ++slot) {
      double code = quotient[slot] + double(zero[slot]);
      code = code < 0.0 ? 0.0 : code;
      code = code > levels ? levels : code;
      codes[slot] = int32_t(code);
    }
    pack_codes(packed.values.data() + row * packed.value_row_bytes, codes, packed.slots_per_row, quant.bits);
  };

  const size_t scale_count = size_t(packed.scale_rows * packed.scales_per_row);
  packed.scales.resize(scale_count);
  if (!quant.symmetric) packed.zero_points.resize(scale_count);
  auto store_scale = [&](size_t index, const ScaleAndZero& scale) {
    packed.scales[index] = scale.scale_bits;
    if (!quant.symmetric) packed.zero_points[index] = uint8_t(scale.zero);
  };

  if (quant.granularity == Granularity::Tensor) {
    const KeptRange range = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, packed.rows, 64), KeptRange{},
        [&](const auto& rows, KeptRange partial) {
          RowScratch& scratch = scratch_rows.local();
          for (int64_t row = rows.begin(); row != rows.end(); ++row) {
            locate_row(row, scratch);
            accumulate_row(row, scratch, &partial);
          }
          return partial;
        },
        [](KeptRange left, const KeptRange& right) {
          left.merge(right);
          return left;
        });
    const ScaleAndZero scale = choose_scale(range, quant);
    store_scale(0, scale);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& rows) {
      RowScratch& scratch = scratch_rows.local();
      for (int64_t row = rows.begin(); row != rows.end(); ++row) {
        locate_row(row, scratch);
        encode_row(row, scratch, &scale);
      }
    });
    return packed;
  }

  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& rows) {
    RowScratch& scratch = scratch_rows.local();
    for (int64_t row = rows.begin(); row != rows.end(); ++row) {
      locate_row(row, scratch);
      std::fill(scratch.ranges.begin(), scratch.ranges.end(), KeptRange{});
      accumulate_row(row, scratch, scratch.ranges.data());
      for (size_t index = 0; index < scratch.ranges.size(); ++index) {
        scratch.scales[index] = choose_scale(scratch.ranges[index], quant);
        store_scale(size_t(row) * scratch.ranges.size() + index, scratch.scales[index]);
      }
      encode_row(row, scratch, scratch.scales.data());
    }
  });
  return packed;
}

int64_t packed_storage_bytes(int64_t rows, int64_t cols, const NMPattern& pattern, const QuantConfig& quant) {
  quant.validate();
  PackedMatrix layout;
  set_shape(layout, rows, cols, pattern, quant);
  const int64_t scales = layout.scale_rows * layout.scales_per_row;
  return rows * (layout.value_row_bytes + layout.metadata_row_bytes) + scales * int64_t(sizeof(uint16_t)) +
         (quant.symmetric ? 0 : scales);
}

NMSelection unpack_selection(const PackedMatrix& packed) {
  NMSelection selection;
  selection.rows = packed.rows;
  selection.cols = packed.cols;
  selection.pattern = packed.pattern;
  selection.groups_per_row = packed.groups_per_row;
  const int bits = packed.pattern.metadata_bits();
  if (bits == 0) return selection;
  selection.kept_positions.resize(size_t(packed.rows * packed.slots_per_row));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const uint8_t* in = packed.metadata.data() + row * packed.metadata_row_bytes;
      uint8_t* positions = selection.kept_positions.data() + row * packed.slots_per_row;
      unpack_codes(in, positions, packed.slots_per_row, bits);
    }
  });
  return selection;
}

MatrixF dequantize(const PackedMatrix& packed) {
  MatrixF dense = MatrixF::Zero(packed.rows, packed.cols);
  const NMSelection selection = unpack_selection(packed);
  const int bits = packed.quant.bits;
  const int64_t per_scale = slots_per_scale(packed);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    std::vector<int64_t> columns(size_t(packed.slots_per_row)), scale_of(size_t(packed.slots_per_row));
    std::vector<uint32_t> codes(size_t(packed.slots_per_row));
    std::vector<float> scales(size_t(packed.scales_per_row));
    std::vector<int> zeros(size_t(packed.scales_per_row));
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const uint8_t* in = packed.values.data() + row * packed.value_row_bytes;
      float* out = dense.data() + row * packed.cols;
      row_columns(selection, row, columns.data());
      if (packed.quant.is_fp16()) {
        for (int64_t slot = 0; slot < packed.slots_per_row; ++slot)
          if (columns[size_t(slot)] < packed.cols)
            out[columns[size_t(slot)]] = half_bits_to_float(uint16_t(read_bits(in, slot, 16)));
        continue;
      }
      const int64_t scale_row = packed.quant.granularity == Granularity::Tensor ? 0 : row;
      for (int64_t index = 0; index < packed.scales_per_row; ++index) {
        scales[size_t(index)] = half_bits_to_float(packed.scales[size_t(scale_row * packed.scales_per_row + index)]);
        zeros[size_t(index)] = packed.zero_point(scale_row, index);
      }
      unpack_codes(in, codes.data(), packed.slots_per_row, bits);
      if (per_scale > 0) {
        for (int64_t first = 0, index = 0; first < packed.slots_per_row; first += per_scale, ++index) {
          const float scale = scales[size_t(index)];
          const int zero = zeros[size_t(index)];
          const int64_t end = std::min(packed.slots_per_row, first + per_scale);
          for (int64_t slot = first; slot < end; ++slot) {
            const int64_t col = columns[size_t(slot)];
            if (col < packed.cols) out[col] = float(int(codes[size_t(slot)]) - zero) * scale;
          }
        }
        continue;
      }
      row_scale_indices(packed, columns.data(), scale_of.data());
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
        const int64_t col = columns[size_t(slot)];
        if (col >= packed.cols) continue;
        const int64_t scale_index = scale_of[size_t(slot)];
        out[col] = float(int(codes[size_t(slot)]) - zeros[size_t(scale_index)]) * scales[size_t(scale_index)];
      }
    }
  });
  return dense;
}

}  // namespace nmscope
