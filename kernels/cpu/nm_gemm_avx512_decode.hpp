#pragma once
// How the AVX-512 kernels decode a chunk of the packed format (docs/packed-format.md): the field extraction, the
// chunk geometry and the row decoder the AVX-512 kernels share (int8, bf16, fp32 and AMX: nm_gemm_avx512*.cpp,
// nm_gemm_amx.cpp). Only those files include it, each compiled with its own AVX-512 flags; its
// definitions sit in an anonymous namespace so that each file keeps its own copy, compiled with its own flags (the
// bf16 file's wider ones must not leak into the int8 kernel through a shared inline function).
#include <immintrin.h>

#include <algorithm>
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
  int slots;           // spc
  int value_bytes;     // spc * b / 8
  int metadata_bytes;  // spc * mb / 8
  __m512i group_base;  // (slot / N) * M, the column of each slot's group inside the chunk
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
    // Dense rows into L2 (T1): measured 15 % faster at batch 1 on 4096 x 11008 than into L1 on an AMX-class core;
    // N:M rows, whose codes and positions come as two streams, into L1 as before (T1 was no faster for them). (The
    // hint is an immediate, spelled out per branch: GCC's and clang's _mm_prefetch take it as different types.)
    const char* codes = reinterpret_cast<const char*>(values_ + chunk * constants_.geometry.value_bytes + distance);
    if constexpr (Dense) {
      _mm_prefetch(codes, _MM_HINT_T1);
    } else {
      _mm_prefetch(codes, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(metadata_ + chunk * constants_.geometry.metadata_bytes +
                                                 distance * w_.metadata_bits / w_.bits),
                   _MM_HINT_T0);
    }
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
    if (w_.bits != 4 || constants_.geometry.slots < 64)
      return constants_.codes.extract(run, constants_.full_low_values);
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

// The mask of the first `count` (<= 16) of 16 lanes.
inline __mmask16 first_lanes(int64_t count) { return __mmask16(count >= 16 ? 0xFFFF : (1u << count) - 1); }

// s_w of every chunk of `row` as fp32 into out[0, chunks) (out holds chunks rounded up to 16): 16 at a time for the
// common one scale per chunk, else through each chunk's scale column.
inline void weight_scales_of_row(const PackedWeightsView& w, const CallConstants& constants, int64_t row, float* out) {
  const uint16_t* scales = w.scales + (w.scale_rows == 1 ? 0 : row) * w.scales_per_row;
  if (w.quant_group == kChunk) {
    for (int64_t chunk = 0; chunk < constants.chunks; chunk += 16)
      _mm512_storeu_ps(out + chunk, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first_lanes(constants.chunks - chunk),
                                                                             scales + chunk)));
  } else {
    for (int64_t chunk = 0; chunk < constants.chunks; ++chunk)
      out[chunk] = _cvtsh_ss(scales[constants.scale_column[size_t(chunk)]]);
  }
}

}  // namespace

}  // namespace nmscope::kernels::avx512
