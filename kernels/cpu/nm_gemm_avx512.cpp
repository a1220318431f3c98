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
// lanes. Its accumulator starts at -128 * sum(w) (one vpdpbusd per decoded chunk, shared by every token), so the
// sum comes out as sum(w * q) with no subtraction per token; the lane sums are scaled by s_w * s_x in fp32 (one
// broadcast from a per-row table of the products, filled before the chunk loop) and reduced once per row.
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
  // The 32-bit lanes those slots fill (4 slots each; slots per chunk are a multiple of 8).
  __mmask16 full_low_lanes = __mmask16((1u << (std::min(geometry.slots, 64) / 4)) - 1);
};

// One chunk of one row, decoded: signed weights, the activation index of each slot (sparse) or the second half's
// weights (dense), and -128 * sum(w) per 4-byte lane (both halves for dense): the dot product's starting value.
struct DecodedChunk {
  __m512i weights;
  __m512i indices_or_high;
  __m512i start;
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
        zero_points_(w.zero_points ? w.zero_points + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row : nullptr),
        symmetric_zero_(_mm512_set1_epi8(char(1 << (w.bits - 1)))),
        full_chunks_(w.slots_per_row / constants.geometry.slots) {}

  int64_t full_chunks() const { return full_chunks_; }

  // Asks for the bytes `distance` bytes of codes ahead of chunk `chunk` (and the matching metadata), past the row's
  // end into the next row's: at small batches the kernel streams the weights and the hardware prefetcher alone
  // leaves DRAM bandwidth unused.
  void prefetch(int64_t chunk, int64_t distance) const {
    _mm_prefetch(reinterpret_cast<const char*>(values_ + chunk * constants_.geometry.value_bytes + distance),
                 _MM_HINT_T0);
    if constexpr (!Dense)
      _mm_prefetch(reinterpret_cast<const char*>(metadata_ + chunk * constants_.geometry.metadata_bytes +
                                                 distance * w_.metadata_bits / w_.bits),
                   _MM_HINT_T0);
  }

  // A chunk whose every slot holds a weight. With codes c and w = c - z, -128 * sum(w) = 128 * z * slots - 128 *
  // sum(c): one vpdpbusd of the unsigned codes against -128, started from the constant, per 64 slots.
  DecodedChunk decode_full(int64_t chunk) const {
    const ChunkGeometry& geometry = constants_.geometry;
    const uint8_t* chunk_values = values_ + chunk * geometry.value_bytes;
    const int zero = zero_of(chunk);
    const __m512i zero_point = zero_points_ ? _mm512_set1_epi8(char(zero)) : symmetric_zero_;
    const __m512i minus_128 = _mm512_set1_epi8(char(-128));
    // 4 slots per 32-bit lane; a chunk of fewer than 64 slots (1:4, 2:8) leaves its upper lanes and bytes empty.
    const __m512i lane_start = _mm512_maskz_set1_epi32(constants_.full_low_lanes, 4 * 128 * zero);
    const __m512i low_codes = full_chunk_codes(chunk_values);
    DecodedChunk decoded;
    decoded.weights = _mm512_maskz_sub_epi8(constants_.full_low_slots, low_codes, zero_point);
    decoded.start = _mm512_dpbusd_epi32(lane_start, low_codes, minus_128);
    if constexpr (Dense) {
      const __m512i high_codes = full_chunk_codes(chunk_values + 8 * w_.bits);
      decoded.indices_or_high = _mm512_sub_epi8(high_codes, zero_point);
      decoded.start = _mm512_dpbusd_epi32(_mm512_add_epi32(decoded.start, lane_start), high_codes, minus_128);
    } else {
      const __m512i positions =
          constants_.positions.extract(metadata_ + chunk * geometry.metadata_bytes, constants_.full_metadata);
      decoded.indices_or_high = _mm512_add_epi8(positions, geometry.group_base);
    }
    return decoded;
  }

  // The last chunk of a row whose K is not a multiple of 128: slots past the end of the row get weight 0, so they
  // add nothing whatever they index, and the starting value comes from the masked weights themselves.
  DecodedChunk decode_tail(int64_t chunk) const {
    const ChunkGeometry& geometry = constants_.geometry;
    const int slots = int(w_.slots_per_row - chunk * geometry.slots);
    const uint8_t* chunk_values = values_ + chunk * geometry.value_bytes;
    const __m512i zero_point = zero_points_ ? _mm512_set1_epi8(char(zero_of(chunk))) : symmetric_zero_;
    const __m512i plus_128 = _mm512_set1_epi8(char(128));
    const int low_slots = std::min(slots, 64);
    const __mmask64 low = first_bytes(low_slots);
    const __m512i low_codes = constants_.codes(chunk_values, low_slots);
    DecodedChunk decoded;
    decoded.weights = _mm512_maskz_sub_epi8(low, low_codes, zero_point);
    // 128 * sum(w), negated after: z - c would not fit a signed byte for 8-bit codes (z = 128, c = 0).
    __m512i sum_128w = _mm512_dpbusd_epi32(_mm512_setzero_si512(), plus_128, decoded.weights);
    if constexpr (Dense) {
      const int high_slots = std::max(0, slots - 64);
      const __m512i high_codes = constants_.codes(chunk_values + 8 * w_.bits, high_slots);
      decoded.indices_or_high = _mm512_maskz_sub_epi8(first_bytes(high_slots), high_codes, zero_point);
      sum_128w = _mm512_dpbusd_epi32(sum_128w, plus_128, decoded.indices_or_high);
    } else {
      const __m512i positions = constants_.positions(metadata_ + chunk * geometry.metadata_bytes, slots);
      decoded.indices_or_high = _mm512_add_epi8(positions, geometry.group_base);
    }
    decoded.start = _mm512_sub_epi32(_mm512_setzero_si512(), sum_128w);
    return decoded;
  }

  DecodedChunk decode(int64_t chunk) const { return chunk < full_chunks_ ? decode_full(chunk) : decode_tail(chunk); }

 private:
  int zero_of(int64_t chunk) const {
    return zero_points_ ? zero_points_[constants_.scale_column[size_t(chunk)]] : 1 << (w_.bits - 1);
  }

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
  const uint8_t* zero_points_;
  __m512i symmetric_zero_;
  int64_t full_chunks_;
};

// s_w * s_x of every chunk of one row for `tokens` tokens from `first_token`, token-major: the factor each chunk's
// integer sum is scaled by, computed 16 chunks at a time before the chunk loop so the loop only broadcasts it.
class ChunkScales {
 public:
  ChunkScales(const PackedWeightsView& w, const CallConstants& constants, int64_t tokens)
      : w_(w),
        constants_(constants),
        weight_(size_t(constants.chunks + 16)),
        product_(size_t(tokens * constants.chunks)) {}

  void fill(int64_t row, const QuantizedActivations& x, int64_t first_token, int64_t tokens) {
    const uint16_t* scales = w_.scales + (w_.scale_rows == 1 ? 0 : row) * w_.scales_per_row;
    const int64_t chunks = constants_.chunks;
    if (w_.quant_group == kChunk) {
      for (int64_t chunk = 0; chunk < chunks; chunk += 16) {
        const __mmask16 live = __mmask16(chunks - chunk >= 16 ? 0xFFFF : (1u << (chunks - chunk)) - 1);
        _mm512_storeu_ps(&weight_[size_t(chunk)], _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(live, scales + chunk)));
      }
    } else {
      for (int64_t chunk = 0; chunk < chunks; ++chunk)
        weight_[size_t(chunk)] = _cvtsh_ss(scales[constants_.scale_column[size_t(chunk)]]);
    }
    for (int64_t t = 0; t < tokens; ++t) {
      const float* token_scales = x.scales.data() + (first_token + t) * chunks;
      float* out = product_.data() + t * chunks;
      for (int64_t chunk = 0; chunk < chunks; chunk += 16) {
        const __mmask16 live = __mmask16(chunks - chunk >= 16 ? 0xFFFF : (1u << (chunks - chunk)) - 1);
        _mm512_mask_storeu_ps(
            out + chunk, live,
            _mm512_mul_ps(_mm512_loadu_ps(&weight_[size_t(chunk)]), _mm512_maskz_loadu_ps(live, token_scales + chunk)));
      }
    }
  }
  // The factor of chunk `chunk` for the t-th token of the last fill.
  const float* of_token(int64_t t) const { return product_.data() + t * constants_.chunks; }

 private:
  const PackedWeightsView& w_;
  const CallConstants& constants_;
  std::vector<float> weight_;
  std::vector<float> product_;
};

// sum(w * q) of one chunk for one token, from the chunk's 128 activation bytes (q + 128).
template <bool Dense>
inline __m512i chunk_dot(const DecodedChunk& decoded, const uint8_t* activations) {
  const __m512i low = _mm512_loadu_si512(activations);
  const __m512i high = _mm512_loadu_si512(activations + 64);
  if constexpr (Dense)
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(decoded.start, low, decoded.weights), high, decoded.indices_or_high);
  else
    return _mm512_dpbusd_epi32(decoded.start, _mm512_permutex2var_epi8(low, decoded.indices_or_high, high),
                               decoded.weights);
}

constexpr int64_t kPrefetchDistance = 3072;  // bytes of codes ahead (2-4 KiB measured best at batch 1)

// Small batches: each chunk is decoded into registers and used at once by every token of the tile.
template <int Tokens, bool Dense>
void multiply_row(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                  int64_t row, int64_t first_token, ChunkScales& scales, float* y) {
  const RowDecoder<Dense> decoder(w, constants, row);
  scales.fill(row, x, first_token, Tokens);
  const uint8_t* activations[Tokens];
  const float* factors[Tokens];
  __m512 sums[Tokens];
  for (int t = 0; t < Tokens; ++t) {
    activations[t] = x.values.data() + (first_token + t) * x.row_stride;
    factors[t] = scales.of_token(t);
    sums[t] = _mm512_setzero_ps();
  }
  const auto accumulate = [&](const DecodedChunk& decoded, int64_t chunk) {
    for (int t = 0; t < Tokens; ++t) {
      const __m512i dot = chunk_dot<Dense>(decoded, activations[t] + chunk * kChunk);
      sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(factors[t][chunk]), sums[t]);
    }
  };
  int64_t chunk = 0;
  for (; chunk < decoder.full_chunks(); ++chunk) {
    if (Tokens <= 2) decoder.prefetch(chunk, kPrefetchDistance);
    accumulate(decoder.decode_full(chunk), chunk);
  }
  for (; chunk < constants.chunks; ++chunk) accumulate(decoder.decode_tail(chunk), chunk);
  for (int t = 0; t < Tokens; ++t) y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(sums[t]);
}

// Large batches: the activations no longer fit in L1, and streaming them once per row would bound the kernel by L2
// bandwidth. Blocks of kBlockRows rows are decoded once into an L1-resident buffer, and each chunk of a token's
// activations, once loaded, serves every row of the block.
constexpr int kBlockRows = 4;
constexpr int kBlockTokens = 4;

template <bool Dense>
void multiply_row_block(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                        int64_t first_row, std::vector<DecodedChunk>& decoded, std::vector<ChunkScales>& scales,
                        float* y) {
  const int64_t chunks = constants.chunks;
  for (int r = 0; r < kBlockRows; ++r) {
    const RowDecoder<Dense> decoder(w, constants, first_row + r);
    for (int64_t chunk = 0; chunk < chunks; ++chunk) decoded[size_t(r * chunks + chunk)] = decoder.decode(chunk);
    scales[size_t(r)].fill(first_row + r, x, 0, x.batch);
  }
  int64_t token = 0;
  for (; token + kBlockTokens <= x.batch; token += kBlockTokens) {
    __m512 sums[kBlockRows][kBlockTokens];
    for (auto& row_sums : sums)
      for (auto& sum : row_sums) sum = _mm512_setzero_ps();
    const uint8_t* activations[kBlockTokens];
    const float* factors[kBlockRows][kBlockTokens];
    for (int t = 0; t < kBlockTokens; ++t) {
      activations[t] = x.values.data() + (token + t) * x.row_stride;
      for (int r = 0; r < kBlockRows; ++r) factors[r][t] = scales[size_t(r)].of_token(token + t);
    }
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int t = 0; t < kBlockTokens; ++t) {
        for (int r = 0; r < kBlockRows; ++r) {
          const __m512i dot = chunk_dot<Dense>(decoded[size_t(r * chunks + chunk)], activations[t] + chunk * kChunk);
          sums[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(factors[r][t][chunk]), sums[r][t]);
        }
      }
    }
    for (int r = 0; r < kBlockRows; ++r)
      for (int t = 0; t < kBlockTokens; ++t) y[(token + t) * w.rows + first_row + r] = _mm512_reduce_add_ps(sums[r][t]);
  }
  for (; token < x.batch; ++token) {
    for (int r = 0; r < kBlockRows; ++r) {
      __m512 sum = _mm512_setzero_ps();
      const float* factors = scales[size_t(r)].of_token(token);
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        const __m512i dot = chunk_dot<Dense>(decoded[size_t(r * chunks + chunk)],
                                             x.values.data() + token * x.row_stride + chunk * kChunk);
        sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(factors[chunk]), sum);
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
    std::vector<ChunkScales> scales(kBlockRows, ChunkScales(w, constants, x.batch));
    for (; row + kBlockRows <= row_end; row += kBlockRows)
      multiply_row_block<Dense>(w, constants, x, row, decoded, scales, y);
  }
  ChunkScales scales(w, constants, 8);
  for (; row < row_end; ++row) {
    int64_t token = 0;
    // Wide tiles first: a chunk's decode is shared by every token of a tile.
    for (; token + 8 <= x.batch; token += 8) multiply_row<8, Dense>(w, constants, x, row, token, scales, y);
    if (token + 4 <= x.batch) {
      multiply_row<4, Dense>(w, constants, x, row, token, scales, y);
      token += 4;
    }
    if (token + 2 <= x.batch) {
      multiply_row<2, Dense>(w, constants, x, row, token, scales, y);
      token += 2;
    }
    if (token < x.batch) multiply_row<1, Dense>(w, constants, x, row, token, scales, y);
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
