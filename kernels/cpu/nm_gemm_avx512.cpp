// AVX-512 (VNNI + VBMI) kernel for y = x W^T on the packed format (docs/packed-format.md), int8 activations.
//
// The unit of work is a chunk of 128 columns of K, the span one byte permutation (vpermt2b) covers:
//   - its slots: spc = 128 * N / M (64 for 2:4 and 4:8, 32 for 1:4 and 2:8, 16 for 1:8; 128 for dense),
//   - their b-bit codes and mb-bit positions, each a byte-aligned run of the row's bit strings (spc % 8 == 0),
//   - one weight scale (quantization groups are multiples of 128 columns) and one activation scale per token.
// Decoding a chunk: two instructions pull any b-bit fields (b <= 8) out of a byte run into bytes: vpermb copies the
// bytes of each field's qword into place, vpmultishiftqb shifts each field to bit 0. Codes minus the zero point are
// the signed weights; positions plus the group base ((slot / N) * M) index the chunk's 128 activation bytes.
// Multiplying: vpermt2b selects each slot's activation, vpdpbusd sums u8 activation (q + 128) x s8 weight in 4-byte
// lanes, and subtracting 128 * sum(w) (also one vpdpbusd, once per row) leaves sum(w * q); the lane sums are
// scaled by s_w * s_x in fp32 and reduced once per row.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "nm_gemm_isa.hpp"

namespace nmscope::kernels::avx512 {

namespace {

constexpr int kChunk = QuantizedActivations::kBlock;  // 128 columns

__mmask64 first_bytes(int count) { return count >= 64 ? ~__mmask64(0) : (__mmask64(1) << count) - 1; }

// Pulls b-bit fields out of an LSB-first byte run, one per byte (count <= 64, b <= 8). The two control vectors
// depend only on b, so they are built once per kernel call.
class FieldExtractor {
 public:
  explicit FieldExtractor(int bits) : bits_(bits) {
    alignas(64) uint8_t gather[64];
    alignas(64) uint8_t shifts[64];
    for (int k = 0; k < 8; ++k)
      for (int t = 0; t < 8; ++t) {
        gather[8 * k + t] = uint8_t(k * bits + t);  // qword k starts at byte k*b: 8 fields of b bits = b bytes
        shifts[8 * k + t] = uint8_t(t * bits);
      }
    gather_index_ = _mm512_load_si512(gather);
    shift_control_ = _mm512_load_si512(shifts);
    field_mask_ = _mm512_set1_epi8(char((1 << bits) - 1));
  }

  __m512i operator()(const uint8_t* run, int count) const { return extract(run, load_mask(count)); }
  // The mask that loads the bytes of `count` fields.
  __mmask64 load_mask(int count) const { return first_bytes((count * bits_ + 7) / 8); }
  __m512i extract(const uint8_t* run, __mmask64 load) const {
    const __m512i source = _mm512_maskz_loadu_epi8(load, run);
    const __m512i fields = _mm512_multishift_epi64_epi8(shift_control_, _mm512_permutexvar_epi8(gather_index_, source));
    return _mm512_and_si512(fields, field_mask_);
  }

 private:
  int bits_;
  __m512i gather_index_;
  __m512i shift_control_;
  __m512i field_mask_;
};

struct ChunkGeometry {
  int slots;            // spc
  int value_bytes;      // spc * b / 8
  int metadata_bytes;   // spc * mb / 8
  __m512i group_base;   // (slot / N) * M, the column of each slot's group inside the chunk
};

ChunkGeometry geometry_of(const PackedWeightsView& w) {
  ChunkGeometry geometry{};
  geometry.slots = w.group_size == 1 ? kChunk : kChunk / w.group_size * w.kept_per_group;
  geometry.value_bytes = geometry.slots * w.bits / 8;
  geometry.metadata_bytes = geometry.slots * w.metadata_bits / 8;
  alignas(64) uint8_t base[64];
  for (int slot = 0; slot < 64; ++slot) base[slot] = uint8_t((slot / w.kept_per_group) * w.group_size);
  geometry.group_base = _mm512_load_si512(base);
  return geometry;
}

// What stays fixed for a whole kernel call: the field extractors, each chunk's scale column (no division in the
// loop), the full-chunk byte masks.
struct CallConstants {
  explicit CallConstants(const PackedWeightsView& w, int64_t chunk_count)
      : geometry(geometry_of(w)), codes(w.bits), positions(std::max(1, w.metadata_bits)), chunks(chunk_count) {
    scale_column.resize(size_t(chunks));
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      scale_column[size_t(chunk)] = w.quant_group > 0 ? chunk * kChunk / w.quant_group : 0;
  }
  ChunkGeometry geometry;
  FieldExtractor codes;
  FieldExtractor positions;
  int64_t chunks;
  std::vector<int64_t> scale_column;
  // Masks of a full chunk: its first (up to) 64 codes' bytes, its positions' bytes, its first 64 slots.
  __mmask64 full_low_values = codes.load_mask(std::min(geometry.slots, 64));
  __mmask64 full_metadata = positions.load_mask(std::min(geometry.slots, 64));
  __mmask64 full_low_slots = first_bytes(std::min(geometry.slots, 64));
};

// Rows of y for `Tokens` consecutive tokens: each chunk of the row is decoded once into registers and multiplied
// with every token of the tile. Full chunks run with loop-invariant masks and strides; the tail chunk (K not a
// multiple of 128) is masked slot by slot.
template <int Tokens, bool Dense>
void multiply_row(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                  int64_t row, int64_t first_token, float* y) {
  const ChunkGeometry& geometry = constants.geometry;
  const uint8_t* values = w.values + row * w.value_row_bytes;
  const uint8_t* metadata = Dense ? nullptr : w.metadata + row * w.metadata_row_bytes;
  const uint16_t* row_scales = w.scales + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row;
  const uint8_t* row_zero_points = w.zero_points ? w.zero_points + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row : nullptr;
  const __m512i symmetric_zero = _mm512_set1_epi8(char(1 << (w.bits - 1)));
  const __m512i ones = _mm512_set1_epi8(1);
  const float* token_scales[Tokens];
  const uint8_t* token_values[Tokens];
  for (int t = 0; t < Tokens; ++t) {
    token_scales[t] = x.scales.data() + (first_token + t) * constants.chunks;
    token_values[t] = x.values.data() + (first_token + t) * x.padded_cols;
  }
  __m512 sums[Tokens];
  for (int t = 0; t < Tokens; ++t) sums[t] = _mm512_setzero_ps();

  auto multiply_chunk = [&](int64_t chunk, const uint8_t* chunk_values, const uint8_t* chunk_metadata, int slots) {
    const int64_t scale_column = constants.scale_column[size_t(chunk)];
    const __m512i zero_point = row_zero_points ? _mm512_set1_epi8(char(row_zero_points[scale_column])) : symmetric_zero;
    const float weight_scale = _cvtsh_ss(row_scales[scale_column]);
    // Slots past the end of the row get weight 0, so they add nothing whatever they index.
    const bool full = slots == geometry.slots;
    const int low_slots = std::min(slots, 64);
    const __m512i low_codes = full ? constants.codes.extract(chunk_values, constants.full_low_values)
                                   : constants.codes(chunk_values, low_slots);
    const __m512i weights = _mm512_maskz_sub_epi8(full ? constants.full_low_slots : first_bytes(low_slots), low_codes, zero_point);
    const __m512i offset = _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, weights), 7);
    __m512i indices, weights_high, offset_high;
    if constexpr (Dense) {
      const int high_slots = std::max(0, slots - 64);
      const __m512i high_codes = full ? constants.codes.extract(chunk_values + 8 * w.bits, constants.full_low_values)
                                      : constants.codes(chunk_values + 8 * w.bits, high_slots);
      weights_high = _mm512_maskz_sub_epi8(first_bytes(high_slots), high_codes, zero_point);
      offset_high = _mm512_add_epi32(offset, _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, weights_high), 7));
    } else {
      const __m512i positions = full ? constants.positions.extract(chunk_metadata, constants.full_metadata)
                                     : constants.positions(chunk_metadata, slots);
      indices = _mm512_add_epi8(positions, geometry.group_base);
    }
    for (int t = 0; t < Tokens; ++t) {
      const uint8_t* activations = token_values[t] + chunk * kChunk;
      const __m512i low = _mm512_loadu_si512(activations);
      const __m512i high = _mm512_loadu_si512(activations + 64);
      __m512i dot;
      if constexpr (Dense) {
        dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, weights), high, weights_high);
        dot = _mm512_sub_epi32(dot, offset_high);  // offset_high holds both halves' offsets
      } else {
        const __m512i selected = _mm512_permutex2var_epi8(low, indices, high);
        dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), selected, weights), offset);
      }
      sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(weight_scale * token_scales[t][chunk]), sums[t]);
    }
  };

  const int64_t full_chunks = w.slots_per_row / geometry.slots;
  const uint8_t* chunk_values = values;
  const uint8_t* chunk_metadata = metadata;
  for (int64_t chunk = 0; chunk < full_chunks; ++chunk) {
    multiply_chunk(chunk, chunk_values, chunk_metadata, geometry.slots);
    chunk_values += geometry.value_bytes;
    if constexpr (!Dense) chunk_metadata += geometry.metadata_bytes;
  }
  if (full_chunks < constants.chunks)
    multiply_chunk(full_chunks, chunk_values, chunk_metadata, int(w.slots_per_row - full_chunks * geometry.slots));
  for (int t = 0; t < Tokens; ++t) y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(sums[t]);
}

template <bool Dense>
void multiply_rows(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                   int64_t row_begin, int64_t row_end, float* y) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    int64_t token = 0;
    // Wide tiles first: a chunk's decode is shared by every token of a tile.
    for (; token + 8 <= x.batch; token += 8) multiply_row<8, Dense>(w, constants, x, row, token, y);
    if (token + 4 <= x.batch) {
      multiply_row<4, Dense>(w, constants, x, row, token, y);
      token += 4;
    }
    if (token + 2 <= x.batch) {
      multiply_row<2, Dense>(w, constants, x, row, token, y);
      token += 2;
    }
    if (token < x.batch) multiply_row<1, Dense>(w, constants, x, row, token, y);
  }
}

}  // namespace

bool supports(const PackedWeightsView& w) {
  if (w.bits < 2 || w.bits > 8) return false;
  if (w.bits == 8 && w.zero_points) return false;  // code - z may leave the int8 range
  if (kChunk % w.group_size != 0) return false;
  if (w.quant_group != 0 && w.quant_group % kChunk != 0) return false;
  if (w.group_size == 1) return true;
  const int slots = kChunk / w.group_size * w.kept_per_group;
  return w.metadata_bits > 0 && slots <= 64 && slots % 8 == 0;
}

void gemm(const PackedWeightsView& w, const QuantizedActivations& x, int64_t row_begin, int64_t row_end, float* y) {
  const CallConstants constants(w, x.padded_cols / kChunk);
  if (w.group_size == 1) multiply_rows<true>(w, constants, x, row_begin, row_end, y);
  else multiply_rows<false>(w, constants, x, row_begin, row_end, y);
}

}  // namespace nmscope::kernels::avx512
