// The GPU re-layout of docs/gpu-kernels.md, built on the host from the packed buffers of docs/packed-format.md.
#include "nmscope/kernels/cuda/gpu_layout.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "nmscope/kernels/bit_string.hpp"
#include "nmscope/kernels/fp16.hpp"

namespace nmscope::kernels::cuda {

namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Lane word bit of fragment slot i (a_i of docs/gpu-kernels.md) of unit u: chosen so that one shift and one mask
// (2-, 4-bit codes) or one byte permute (8-bit codes) yields the half2 pair (a_2p, a_2p+1) of register p.
int code_bit(int code_bits, int unit, int slot) {
  const int pair = slot >> 1, second = slot & 1;
  switch (code_bits) {
    case 2:
      return 32 * (unit >> 1) + 2 * (4 * (unit & 1) + pair + 8 * second);
    case 4:
      return 32 * unit + 4 * (pair + 4 * second);
    default:
      return 32 * (2 * unit + (pair >> 1)) + 8 * (2 * (pair & 1) + second);
  }
}

// Where position e (0: first kept, 1: second) of group q of tile row r lives in the 16 holder words.
void metadata_bit(MetadataOrder order, int row, int group, int e, int& word, int& bit) {
  if (order == MetadataOrder::RowPairsByHalf) {
    word = 2 * (row % 8) + group / 4;
    bit = 16 * (row / 8) + 4 * (group % 4) + 2 * e;
  } else {
    word = 2 * (row % 8) + row / 8;
    bit = 4 * group + 2 * e;
  }
}

// Tile row, column inside the unit (dense) or group inside the unit (sparse) of fragment slot i of lane (g, t):
// the register layout of mma.m16n8k16 / mma.sp m16n8k32 operand A (PTX ISA, "Matrix fragments").
int slot_row(int lane, int slot) { return (lane >> 2) + 8 * ((slot >> 1) & 1); }
int slot_dense_column(int lane, int slot) { return 2 * (lane & 3) + (slot & 1) + 8 * (slot >> 2); }
int slot_sparse_group(int lane, int slot) { return (lane & 3) + 4 * (slot >> 2); }

}  // namespace

int64_t metadata_offset(const GpuWeightLayout& layout, int holder, int unit) {
  return kTileValueBytes + int64_t(holder) * 4 * layout.units_per_chunk + 4 * unit;
}
int64_t scale_offset(const GpuWeightLayout& layout, int slot, int tile_row) {
  return kTileValueBytes + layout.metadata_bytes + int64_t(slot) * kScaleSlotBytes + 4 * (tile_row % 8) +
         2 * (tile_row / 8);
}

bool embeds_in_2_4(int kept_per_group, int group_size) {
  if (kept_per_group >= group_size) return false;
  const int period = std::lcm(4, group_size);
  for (int window = 0; window < period; window += 4) {
    int kept = 0;
    for (int group = window / group_size; group * group_size < window + 4; ++group) {
      const int overlap = std::min(window + 4, (group + 1) * group_size) - std::max(window, group * group_size);
      kept += std::min(kept_per_group, overlap);
    }
    if (kept > 2) return false;
  }
  return true;
}

std::string gpu_layout_unsupported(const PackedWeightsView& view, TensorCorePath path) {
  if (view.bits < 2 || view.bits > 8)
    return "GPU kernels run 2- to 8-bit codes, not " + std::to_string(view.bits) + "-bit";
  if (view.zero_points) return "GPU kernels run symmetric quantization only (no zero points)";
  if (path == TensorCorePath::Sparse24 && !embeds_in_2_4(view.kept_per_group, view.group_size))
    return "pattern " + std::to_string(view.kept_per_group) + ":" + std::to_string(view.group_size) +
           " can keep more than two of four aligned columns: not a sparse tensor core pattern";
  const int unit_k = path == TensorCorePath::Sparse24 ? 32 : 16;
  if (view.quant_group > 0 && view.quant_group % unit_k != 0)
    return "quantization group " + std::to_string(view.quant_group) + " is not a multiple of " +
           std::to_string(unit_k) + " columns (one scale per mma tile row)";
  if (view.rows <= 0 || view.cols <= 0) return "empty matrix";
  return "";
}

void pack_metadata_words(const uint8_t (&positions)[16][8][2], MetadataOrder order, uint32_t (&words)[16]) {
  std::fill(std::begin(words), std::end(words), 0u);
  for (int row = 0; row < 16; ++row)
    for (int group = 0; group < 8; ++group)
      for (int e = 0; e < 2; ++e) {
        int word = 0, bit = 0;
        metadata_bit(order, row, group, e, word, bit);
        words[word] |= uint32_t(positions[row][group][e] & 3u) << bit;
      }
}

GpuWeightLayout make_gpu_layout(const PackedWeightsView& view, TensorCorePath path, MetadataOrder order) {
  if (const std::string why = gpu_layout_unsupported(view, path); !why.empty()) throw std::invalid_argument(why);
  const bool sparse = path == TensorCorePath::Sparse24;
  GpuWeightLayout layout;
  layout.rows = view.rows;
  layout.cols = view.cols;
  layout.path = path;
  layout.metadata_order = order;
  layout.bits = view.bits;
  layout.code_bits = view.bits <= 2 ? 2 : view.bits <= 4 ? 4 : 8;
  layout.zero_code = 1 << (view.bits - 1);
  layout.unit_k = sparse ? 32 : 16;
  layout.units_per_chunk = 16 / layout.code_bits;
  layout.chunk_k = layout.units_per_chunk * layout.unit_k;
  layout.padded_cols = round_up(view.cols, layout.chunk_k);
  layout.padded_rows = round_up(view.rows, kRowAlign);
  layout.chunks = layout.padded_cols / layout.chunk_k;
  layout.scale_group_k = view.quant_group > 0 ? view.quant_group : layout.padded_cols;
  if (layout.scale_group_k % layout.chunk_k == 0)
    layout.scale_slots = 1;
  else if (layout.chunk_k % layout.scale_group_k == 0)
    layout.scale_slots = int(layout.chunk_k / layout.scale_group_k);
  else
    layout.scale_slots = layout.units_per_chunk;
  layout.metadata_bytes = sparse ? 4 * kMetadataWordsPerUnit * layout.units_per_chunk : 0;
  layout.tile_bytes = kTileValueBytes + layout.metadata_bytes + kScaleSlotBytes * layout.scale_slots;
  layout.tiles.assign(size_t(layout.m_tiles() * layout.chunks * layout.tile_bytes), 0);

  const int64_t cols = layout.padded_cols;
  std::vector<uint8_t> codes(size_t(kTileRows * cols));
  std::vector<uint8_t> kept(size_t(kTileRows * cols));
  const int n = view.kept_per_group, m = view.group_size;
  for (int64_t tile = 0; tile < layout.m_tiles(); ++tile) {
    // The tile's 16 rows expanded to codes per column (pruned and padding columns: the zero code).
    std::fill(codes.begin(), codes.end(), uint8_t(layout.zero_code));
    std::fill(kept.begin(), kept.end(), uint8_t(0));
    for (int r = 0; r < kTileRows; ++r) {
      const int64_t row = tile * kTileRows + r;
      if (row >= view.rows) continue;
      const uint8_t* values = view.values + row * view.value_row_bytes;
      const uint8_t* metadata = view.metadata ? view.metadata + row * view.metadata_row_bytes : nullptr;
      for (int64_t slot = 0; slot < view.slots_per_row; ++slot) {
        const int64_t position = metadata ? read_bits(metadata, slot, view.metadata_bits) : slot % n;
        const int64_t col = (slot / n) * m + position;
        if (col >= view.cols) continue;
        codes[size_t(r * cols + col)] = uint8_t(read_bits(values, slot, view.bits));
        kept[size_t(r * cols + col)] = 1;
      }
    }
    for (int64_t chunk = 0; chunk < layout.chunks; ++chunk) {
      uint8_t* tile_bytes = layout.tiles.data() + (tile * layout.chunks + chunk) * layout.tile_bytes;
      for (int unit = 0; unit < layout.units_per_chunk; ++unit) {
        const int64_t unit_col = chunk * layout.chunk_k + int64_t(unit) * layout.unit_k;
        // Sparse: the two positions per (row, group of four), ascending; fewer than two kept are padded with
        // zero-code slots at distinct positions (equal positions are invalid metadata).
        uint8_t positions[16][8][2] = {};
        if (sparse) {
          for (int r = 0; r < 16; ++r)
            for (int group = 0; group < 8; ++group) {
              int found[4], count = 0;
              for (int p = 0; p < 4; ++p)
                if (kept[size_t(r * cols + unit_col + 4 * group + p)]) found[count++] = p;
              if (count > 2) throw std::invalid_argument("more than two kept values in a group of four");
              int p0 = 0, p1 = 1;
              if (count == 2) p0 = found[0], p1 = found[1];
              if (count == 1) {
                if (found[0] == 3)
                  p0 = 2, p1 = 3;
                else
                  p0 = found[0], p1 = 3;
              }
              positions[r][group][0] = uint8_t(p0);
              positions[r][group][1] = uint8_t(p1);
            }
        }
        for (int lane = 0; lane < 32; ++lane)
          for (int slot = 0; slot < 8; ++slot) {
            const int r = slot_row(lane, slot);
            int64_t col = 0;
            if (sparse) {
              const int group = slot_sparse_group(lane, slot);
              col = unit_col + 4 * group + positions[r][group][slot & 1];
            } else {
              col = unit_col + slot_dense_column(lane, slot);
            }
            const uint32_t code = codes[size_t(r * cols + col)];
            write_bits(tile_bytes + lane * kLaneBytes, code_bit(layout.code_bits, unit, slot) / layout.code_bits,
                       layout.code_bits, code);
          }
        if (sparse) {
          uint32_t words[16];
          pack_metadata_words(positions, order, words);
          for (int holder = 0; holder < kMetadataWordsPerUnit; ++holder)
            std::memcpy(tile_bytes + metadata_offset(layout, holder, unit), &words[holder], 4);
        }
      }
      for (int slot = 0; slot < layout.scale_slots; ++slot) {
        // The slot's first unit names its scale group (a group never starts inside a unit).
        const int first_unit = (slot * layout.units_per_chunk + layout.scale_slots - 1) / layout.scale_slots;
        const int64_t col = chunk * layout.chunk_k + int64_t(first_unit) * layout.unit_k;
        for (int r = 0; r < 16; ++r) {
          const int64_t row = tile * kTileRows + r;
          if (row >= view.rows || col >= view.cols) continue;
          std::memcpy(tile_bytes + scale_offset(layout, slot, r), &view.scales[view.scale_index(row, col)], 2);
        }
      }
    }
  }
  return layout;
}

std::vector<float> gpu_layout_to_dense(const GpuWeightLayout& layout) {
  std::vector<float> dense(size_t(layout.rows * layout.cols), 0.0f);
  const bool sparse = layout.path == TensorCorePath::Sparse24;
  for (int64_t tile = 0; tile < layout.m_tiles(); ++tile)
    for (int64_t chunk = 0; chunk < layout.chunks; ++chunk) {
      const uint8_t* tile_bytes = layout.tiles.data() + (tile * layout.chunks + chunk) * layout.tile_bytes;
      for (int unit = 0; unit < layout.units_per_chunk; ++unit) {
        const int64_t unit_col = chunk * layout.chunk_k + int64_t(unit) * layout.unit_k;
        uint32_t words[16] = {};
        if (sparse)
          for (int holder = 0; holder < kMetadataWordsPerUnit; ++holder)
            std::memcpy(&words[holder], tile_bytes + metadata_offset(layout, holder, unit), 4);
        for (int lane = 0; lane < 32; ++lane)
          for (int slot = 0; slot < 8; ++slot) {
            const int r = slot_row(lane, slot);
            int64_t col = unit_col;
            if (sparse) {
              const int group = slot_sparse_group(lane, slot);
              int word = 0, bit = 0;
              metadata_bit(layout.metadata_order, r, group, slot & 1, word, bit);
              col += 4 * group + ((words[word] >> bit) & 3u);
            } else {
              col += slot_dense_column(lane, slot);
            }
            const int64_t row = tile * kTileRows + r;
            if (row >= layout.rows || col >= layout.cols) continue;
            const int code =
                int(read_bits(tile_bytes + lane * kLaneBytes, code_bit(layout.code_bits, unit, slot) / layout.code_bits,
                              layout.code_bits));
            uint16_t scale;
            std::memcpy(&scale, tile_bytes + scale_offset(layout, layout.scale_slot(unit), r), 2);
            dense[size_t(row * layout.cols + col)] = float(code - layout.zero_code) * fp16_bits_to_float_exact(scale);
          }
      }
    }
  return dense;
}

}  // namespace nmscope::kernels::cuda
