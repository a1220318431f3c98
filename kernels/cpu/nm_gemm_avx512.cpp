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

// One chunk of one row, decoded: signed weights, the activation index of each slot (sparse) or the second half's
// weights (dense), 128 * sum(w) per 4-byte lane (both halves for dense), and the weight scale.
struct DecodedChunk {
  __m512i weights;
  __m512i indices_or_high;
  __m512i offset;
  float scale;
};

// Decodes a row's chunks: full chunks with loop-invariant masks and strides, the tail chunk (K not a multiple of
// 128) masked slot by slot.
template <bool Dense>
class RowDecoder {
 public:
  RowDecoder(const PackedWeightsView& w, const CallConstants& constants, int64_t row)
      : w_(w),
        constants_(constants),
        values_(w.values + row * w.value_row_bytes),
        metadata_(Dense ? nullptr : w.metadata + row * w.metadata_row_bytes),
        scales_(w.scales + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row),
        zero_points_(w.zero_points ? w.zero_points + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row : nullptr),
        symmetric_zero_(_mm512_set1_epi8(char(1 << (w.bits - 1)))),
        full_chunks_(w.slots_per_row / constants.geometry.slots) {}

  DecodedChunk decode(int64_t chunk) const {
    const ChunkGeometry& geometry = constants_.geometry;
    const bool full = chunk < full_chunks_;
    const int slots = full ? geometry.slots : int(w_.slots_per_row - chunk * geometry.slots);
    const uint8_t* chunk_values = values_ + chunk * geometry.value_bytes;
    const int64_t scale_column = constants_.scale_column[size_t(chunk)];
    const __m512i zero_point = zero_points_ ? _mm512_set1_epi8(char(zero_points_[scale_column])) : symmetric_zero_;
    const __m512i ones = _mm512_set1_epi8(1);
    DecodedChunk decoded;
    decoded.scale = _cvtsh_ss(scales_[scale_column]);
    // Slots past the end of the row get weight 0, so they add nothing whatever they index.
    const int low_slots = std::min(slots, 64);
    const __m512i low_codes = full ? full_chunk_codes(chunk_values) : constants_.codes(chunk_values, low_slots);
    decoded.weights =
        _mm512_maskz_sub_epi8(full ? constants_.full_low_slots : first_bytes(low_slots), low_codes, zero_point);
    decoded.offset = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, decoded.weights);
    if constexpr (Dense) {
      const int high_slots = std::max(0, slots - 64);
      const __m512i high_codes = full ? full_chunk_codes(chunk_values + 8 * w_.bits)
                                      : constants_.codes(chunk_values + 8 * w_.bits, high_slots);
      decoded.indices_or_high = _mm512_maskz_sub_epi8(first_bytes(high_slots), high_codes, zero_point);
      decoded.offset = _mm512_dpbusd_epi32(decoded.offset, ones, decoded.indices_or_high);
    } else {
      const uint8_t* chunk_metadata = metadata_ + chunk * geometry.metadata_bytes;
      const __m512i positions = full ? constants_.positions.extract(chunk_metadata, constants_.full_metadata)
                                     : constants_.positions(chunk_metadata, slots);
      decoded.indices_or_high = _mm512_add_epi8(positions, geometry.group_base);
    }
    decoded.offset = _mm512_slli_epi32(decoded.offset, 7);
    return decoded;
  }

 private:
  // The 64 codes of a full chunk. 4-bit codes (the common case) are two per byte in slot order, so widening each
  // byte to 16 bits and moving its high nibble up a byte puts every code in its own byte with one port-5
  // instruction instead of the general two-permutation extraction.
  __m512i full_chunk_codes(const uint8_t* run) const {
    // Only where a full chunk holds 64 codes (32 bytes): a shorter chunk would read past its row.
    if (w_.bits != 4 || constants_.geometry.slots < 64) return constants_.codes.extract(run, constants_.full_low_values);
    const __m512i widened = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(run)));
    // (byte | byte << 4) & 0x0F0F: low nibble stays in the low byte, high nibble lands in the high byte.
    return _mm512_ternarylogic_epi32(widened, _mm512_slli_epi16(widened, 4), _mm512_set1_epi16(0x0F0F), 0xA8);
  }

  const PackedWeightsView& w_;
  const CallConstants& constants_;
  const uint8_t* values_;
  const uint8_t* metadata_;
  const uint16_t* scales_;
  const uint8_t* zero_points_;
  __m512i symmetric_zero_;
  int64_t full_chunks_;
};

// sum(w * q) of one chunk for one token, from the chunk's 128 activation bytes.
template <bool Dense>
inline __m512i chunk_dot(const DecodedChunk& decoded, const uint8_t* activations) {
  const __m512i low = _mm512_loadu_si512(activations);
  const __m512i high = _mm512_loadu_si512(activations + 64);
  __m512i dot;
  if constexpr (Dense) {
    dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, decoded.weights), high,
                              decoded.indices_or_high);
  } else {
    dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                              _mm512_permutex2var_epi8(low, decoded.indices_or_high, high), decoded.weights);
  }
  return _mm512_sub_epi32(dot, decoded.offset);
}

// Small batches: each chunk is decoded into registers and used at once by every token of the tile.
template <int Tokens, bool Dense>
void multiply_row(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                  int64_t row, int64_t first_token, float* y) {
  const RowDecoder<Dense> decoder(w, constants, row);
  __m512 sums[Tokens];
  for (int t = 0; t < Tokens; ++t) sums[t] = _mm512_setzero_ps();
  for (int64_t chunk = 0; chunk < constants.chunks; ++chunk) {
    const DecodedChunk decoded = decoder.decode(chunk);
    for (int t = 0; t < Tokens; ++t) {
      const int64_t token = first_token + t;
      const __m512i dot = chunk_dot<Dense>(decoded, x.values.data() + token * x.row_stride + chunk * kChunk);
      const float scale = decoded.scale * x.scales[size_t(token * constants.chunks + chunk)];
      sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(scale), sums[t]);
    }
  }
  for (int t = 0; t < Tokens; ++t) y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(sums[t]);
}

// Large batches: the activations no longer fit in L1, and streaming them once per row would bound the kernel by L2
// bandwidth. Blocks of kBlockRows rows are decoded once into an L1-resident buffer, and each chunk of a token's
// activations, once loaded, serves every row of the block.
constexpr int kBlockRows = 4;
constexpr int kBlockTokens = 4;

template <bool Dense>
void multiply_row_block(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                        int64_t first_row, std::vector<DecodedChunk>& decoded, float* y) {
  const int64_t chunks = constants.chunks;
  for (int r = 0; r < kBlockRows; ++r) {
    const RowDecoder<Dense> decoder(w, constants, first_row + r);
    for (int64_t chunk = 0; chunk < chunks; ++chunk) decoded[size_t(r * chunks + chunk)] = decoder.decode(chunk);
  }
  int64_t token = 0;
  for (; token + kBlockTokens <= x.batch; token += kBlockTokens) {
    __m512 sums[kBlockRows][kBlockTokens];
    for (auto& row_sums : sums)
      for (auto& sum : row_sums) sum = _mm512_setzero_ps();
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int t = 0; t < kBlockTokens; ++t) {
        const uint8_t* activations = x.values.data() + (token + t) * x.row_stride + chunk * kChunk;
        const float token_scale = x.scales[size_t((token + t) * chunks + chunk)];
        for (int r = 0; r < kBlockRows; ++r) {
          const DecodedChunk& weights = decoded[size_t(r * chunks + chunk)];
          const __m512i dot = chunk_dot<Dense>(weights, activations);
          sums[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(weights.scale * token_scale), sums[r][t]);
        }
      }
    }
    for (int r = 0; r < kBlockRows; ++r)
      for (int t = 0; t < kBlockTokens; ++t) y[(token + t) * w.rows + first_row + r] = _mm512_reduce_add_ps(sums[r][t]);
  }
  for (; token < x.batch; ++token) {
    for (int r = 0; r < kBlockRows; ++r) {
      __m512 sum = _mm512_setzero_ps();
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        const DecodedChunk& weights = decoded[size_t(r * chunks + chunk)];
        const __m512i dot = chunk_dot<Dense>(weights, x.values.data() + token * x.row_stride + chunk * kChunk);
        sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                              _mm512_set1_ps(weights.scale * x.scales[size_t(token * chunks + chunk)]), sum);
      }
      y[token * w.rows + first_row + r] = _mm512_reduce_add_ps(sum);
    }
  }
}

template <bool Dense>
void multiply_rows(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                   int64_t row_begin, int64_t row_end, float* y) {
  int64_t row = row_begin;
  if (x.batch >= 8) {
    std::vector<DecodedChunk> decoded(static_cast<size_t>(kBlockRows * constants.chunks));
    for (; row + kBlockRows <= row_end; row += kBlockRows) multiply_row_block<Dense>(w, constants, x, row, decoded, y);
  }
  for (; row < row_end; ++row) {
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
