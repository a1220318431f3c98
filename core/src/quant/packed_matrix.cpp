// Quantize + pack and the inverse, exactly as docs/packed-format.md and docs/conventions.md specify.
#include "nmscope/packed_matrix.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

#include "nmscope/error.hpp"
#include "nmscope/half.hpp"
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

void pack_metadata(PackedMatrix& packed, const NMSelection& selection) {
  const int bits = selection.pattern.metadata_bits();
  if (bits == 0) return;
  packed.metadata.assign(size_t(packed.rows * packed.metadata_row_bytes), 0);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      uint8_t* out = packed.metadata.data() + row * packed.metadata_row_bytes;
      const uint8_t* positions = selection.kept_positions.data() + row * packed.slots_per_row;
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) write_bits(out, slot, bits, positions[slot]);
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

  // Ranges per scale, then scales, then codes: three row-parallel passes (one global reduction per tensor).
  std::vector<KeptRange> ranges(size_t(packed.scale_rows * packed.scales_per_row));
  auto accumulate_row = [&](int64_t row, KeptRange* row_ranges) {
    for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
      const int64_t col = selection.column(row, slot);
      if (col < packed.cols) row_ranges[packed.scale_column(col)].add(range_weights(row, col));
    }
  };
  if (quant.granularity == Granularity::Tensor) {
    ranges[0] = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, packed.rows, 64), KeptRange{},
        [&](const auto& range, KeptRange partial) {
          for (int64_t row = range.begin(); row != range.end(); ++row) accumulate_row(row, &partial);
          return partial;
        },
        [](KeptRange left, const KeptRange& right) {
          left.merge(right);
          return left;
        });
  } else {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
      for (int64_t row = range.begin(); row != range.end(); ++row)
        accumulate_row(row, ranges.data() + row * packed.scales_per_row);
    });
  }

  std::vector<ScaleAndZero> scales(ranges.size());
  packed.scales.resize(ranges.size());
  if (!quant.symmetric) packed.zero_points.resize(ranges.size());
  for (size_t index = 0; index < ranges.size(); ++index) {
    scales[index] = choose_scale(ranges[index], quant);
    packed.scales[index] = scales[index].scale_bits;
    if (!quant.symmetric) packed.zero_points[index] = uint8_t(scales[index].zero);
  }

  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      uint8_t* out = packed.values.data() + row * packed.value_row_bytes;
      const ScaleAndZero* row_scales =
          scales.data() + (quant.granularity == Granularity::Tensor ? 0 : row * packed.scales_per_row);
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
        const int64_t col = selection.column(row, slot);
        // Tail padding decodes to exactly zero: its code is the zero point of the row's last scale.
        const ScaleAndZero& scale = row_scales[col < packed.cols ? packed.scale_column(col) : packed.scales_per_row - 1];
        const uint32_t code = col < packed.cols ? quantize_code(weights(row, col), scale, quant.bits) : uint32_t(scale.zero);
        write_bits(out, slot, quant.bits, code);
      }
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

kernels::PackedWeightsView kernel_view(const PackedMatrix& packed) {
  kernels::PackedWeightsView view;
  view.rows = packed.rows;
  view.cols = packed.cols;
  view.kept_per_group = packed.pattern.kept_per_group;
  view.group_size = packed.pattern.group_size;
  view.bits = packed.quant.bits;
  view.metadata_bits = packed.pattern.metadata_bits();
  view.slots_per_row = packed.slots_per_row;
  view.value_row_bytes = packed.value_row_bytes;
  view.metadata_row_bytes = packed.metadata_row_bytes;
  view.values = packed.values.data();
  view.metadata = packed.metadata.empty() ? nullptr : packed.metadata.data();
  view.scales = packed.scales.data();
  view.scale_rows = packed.scale_rows;
  view.scales_per_row = packed.scales_per_row;
  view.quant_group = packed.quant.granularity == Granularity::Group ? packed.quant.group : 0;
  view.zero_points = packed.quant.symmetric ? nullptr : packed.zero_points.data();
  return view;
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
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) positions[slot] = uint8_t(read_bits(in, slot, bits));
    }
  });
  return selection;
}

MatrixF dequantize(const PackedMatrix& packed) {
  MatrixF dense = MatrixF::Zero(packed.rows, packed.cols);
  const NMSelection selection = unpack_selection(packed);
  const int bits = packed.quant.bits;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, packed.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const uint8_t* in = packed.values.data() + row * packed.value_row_bytes;
      const int64_t scale_row = packed.quant.granularity == Granularity::Tensor ? 0 : row;
      for (int64_t slot = 0; slot < packed.slots_per_row; ++slot) {
        const int64_t col = selection.column(row, slot);
        if (col >= packed.cols) continue;
        if (packed.quant.is_fp16()) {
          dense(row, col) = half_bits_to_float(uint16_t(read_bits(in, slot, 16)));
          continue;
        }
        const int64_t scale_index = packed.scale_column(col);
        const float scale = half_bits_to_float(packed.scales[size_t(scale_row * packed.scales_per_row + scale_index)]);
        const int code = int(read_bits(in, slot, bits));
        dense(row, col) = float(code - packed.zero_point(scale_row, scale_index)) * scale;
      }
    }
  });
  return dense;
}

}  // namespace nmscope
