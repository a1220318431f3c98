#pragma once
// The GPU re-layout of the packed N:M low-bit format (docs/packed-format.md -> docs/gpu-kernels.md): codes placed
// where each lane's mma.sync / mma.sp fragment needs them, so one 16-byte load per lane feeds a whole chunk of K.
// Host code only (no CUDA): built once per weight matrix, offline, and pinned by tests/kernels/cuda in every CI run.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/kernels/packed_weights_view.hpp"

namespace nmscope::kernels::cuda {

// Which tensor-core instruction consumes the tiles.
enum class TensorCorePath {
  Dense,     // mma.sync m16n8k16: every position of K stored (pruned ones as the zero code)
  Sparse24,  // mma.sp m16n8k32: two slots per aligned group of four columns, with 2-bit positions
};

// How the 32-bit mma.sp metadata word of a holder lane covers the 16x32 tile (docs/gpu-kernels.md, "Metadata").
// Fixed by the hardware; kept as a named choice so the layout and a device probe name the same thing.
enum class MetadataOrder {
  RowPairsByHalf = 0,  // lane 4g+j: bits 0-15 row g, bits 16-31 row g+8, groups 4j..4j+3 (columns 16j..16j+15)
  RowPerLane = 1,      // lane 4g+j: row g+8j, groups 0..7
};

inline constexpr int kTileRows = 16;                     // rows of one mma tile (m16)
inline constexpr int kLaneBytes = 16;                    // bytes of codes per lane per chunk: one 16-byte load
inline constexpr int kTileValueBytes = 32 * kLaneBytes;  // 512: codes of one (m-tile, chunk)
inline constexpr int kMetadataWordsPerUnit = 16;         // holder lanes (t = 0, 1 of each quad) x 32 bits
inline constexpr int kScaleSlotBytes = 32;                // 8 x half2 (row g, row g + 8)
inline constexpr int kRowAlign = 128;                    // rows padded so every CTA row tile is whole

// One (m-tile, chunk) tile: [512 B codes: 32 lanes x 16 B] [metadata, sparse only: 16 holder lanes x units x 4 B]
// [scales: scale_slots x 8 x half2 (row g, row g + 8)]. Everything a warp needs for 16 rows x chunk_k columns lies in
// one contiguous tile, so a lane fetches its codes, its metadata and its scales with one 16-byte load each.
struct GpuWeightLayout {
  int64_t rows = 0;         // N_out
  int64_t cols = 0;         // K
  int64_t padded_rows = 0;  // multiple of kRowAlign
  int64_t padded_cols = 0;  // multiple of chunk_k
  TensorCorePath path = TensorCorePath::Dense;
  MetadataOrder metadata_order = MetadataOrder::RowPairsByHalf;
  int bits = 4;               // the packed format's value bits
  int code_bits = 4;          // container: 2, 4 or 8 (3 -> 4, 5..7 -> 8)
  int zero_code = 8;          // z = 2^(bits-1): a code decodes to (c - z) * scale
  int unit_k = 16;            // K of one mma: 16 dense, 32 sparse
  int units_per_chunk = 4;    // 128 / (8 * code_bits)
  int chunk_k = 64;           // units_per_chunk * unit_k
  int64_t chunks = 0;         // padded_cols / chunk_k
  int64_t scale_group_k = 0;  // columns per scale (padded_cols for one scale per row or tensor)
  int scale_slots = 1;        // scale sets per tile: 1 when a scale group spans whole chunks, else one per group
                              // (chunk_k / scale_group_k) or per unit
  int metadata_bytes = 0;     // 64 * units_per_chunk when sparse
  int64_t tile_bytes = 0;     // 512 + metadata_bytes + 32 * scale_slots

  std::vector<uint8_t> tiles;  // [padded_rows / 16][chunks][tile_bytes]

  int64_t m_tiles() const { return padded_rows / kTileRows; }
  // The scale slot unit u of a chunk reads.
  int scale_slot(int unit) const { return unit * scale_slots / units_per_chunk; }
  // Bytes the kernel reads: what the storage figures of gpu/ variants count.
  int64_t storage_bytes() const { return int64_t(tiles.size()); }
};

// True when every aligned group of four columns holds at most two kept values for any mask of this N:M pattern
// (2:4, 1:4, 2:8, 1:8, 1:2, 1:3 ...): such patterns run on the sparse tensor cores.
bool embeds_in_2_4(int kept_per_group, int group_size);
// "" when the GPU kernels can run this packed matrix, else why not.
std::string gpu_layout_unsupported(const PackedWeightsView& view, TensorCorePath path);
// Re-lays the packed buffers out for the tensor cores (docs/gpu-kernels.md). Throws std::invalid_argument when
// gpu_layout_unsupported() says why.
GpuWeightLayout make_gpu_layout(const PackedWeightsView& view, TensorCorePath path,
                                MetadataOrder order = MetadataOrder::RowPairsByHalf);
// Decodes the tiles back to W_hat [rows, cols] row-major, exactly as docs/packed-format.md decodes a slot:
// the test that pins every index of the layout against core's dequantize().
std::vector<float> gpu_layout_to_dense(const GpuWeightLayout& layout);

// Byte offsets inside a tile: holder lane 2g + j's metadata word of unit u, and tile row r's scale in slot s.
int64_t metadata_offset(const GpuWeightLayout& layout, int holder, int unit);
int64_t scale_offset(const GpuWeightLayout& layout, int slot, int tile_row);

// One 16x32 mma.sp tile's metadata as the holder lanes must pass it: positions[r][q] = (p0, p1) of row r, group q.
// Returns the 16 words in holder order (word 2g + j is lane 4g + j's operand).
void pack_metadata_words(const uint8_t (&positions)[16][8][2], MetadataOrder order, uint32_t (&words)[16]);

}  // namespace nmscope::kernels::cuda
