// AVX-512 BF16 kernel for y = x W^T on the packed format (docs/packed-format.md) with bf16 activations, one or a
// pair: the CPU decoder's path. Int8 activations per 128 columns move a model's logits by 1.5-9 % (SmolLM2-135M,
// LLaMA-7B: docs/ACCURACY.md, "CPU decode: activation precision"); bf16 keeps 8 significant bits of every activation
// whatever its neighbours hold (about 1 %), a pair 16 (1e-5).
//
// A chunk of 128 columns is decoded as for the int8 kernel (nm_gemm_avx512_decode.hpp): signed weights w = c - z
// and each slot's column. The weights become bf16 exactly (|w| <= 128 fits bf16's 8-bit significand): through a
// 64-entry table (vpermt2w) for codes of up to 5 bits, through fp32 otherwise. Each slot's activation is gathered
// from the chunk's 128 bf16 activations (4 registers) with vpermt2w, 32 slots at a time (a 64-slot chunk's first 32
// slots always lie in its first 64 columns; fewer slots may straddle the middle, and take the upper gather under a
// mask). vdpbf16ps sums pairs of products in fp32, and the chunk's sum is scaled by s_w in fp32: the weights stay
// exact integers, so the activations' rounding is the only one. A bf16 pair (x = high + low) gathers and multiplies
// the low halves too, into the same lanes.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "nm_gemm_avx512_decode.hpp"

namespace nmscope::kernels::avx512_bf16 {

namespace {

using avx512::CallConstants;
using avx512::DecodedChunk;
using avx512::kChunk;
using avx512::RowDecoder;

// One chunk of one row as the bf16 kernel multiplies it.
struct Bf16Chunk {
  __m512i weights[4];  // bf16, 32 slots each: dense, the 128 columns in order; sparse, slots 0-31 and 32-63
  __m512i columns[2];  // sparse: each slot's column in the chunk, 16-bit, slots 0-31 and 32-63
  __mmask32 upper[2];  // sparse: slots whose column is >= 64, gathered from the chunk's upper 64 activations
};

// Turns the int8 kernel's decoded chunk (signed weights, 8-bit columns) into bf16 weights and 16-bit columns.
class Bf16Converter {
 public:
  explicit Bf16Converter(const PackedWeightsView& w, const CallConstants& constants)
      : slots_(constants.geometry.slots), through_table_(w.bits <= 5) {
    // bf16(i - 32) for i in [0, 64): the bf16 bits of a small integer are the top half of its fp32 bits.
    alignas(64) uint16_t table[64];
    for (int i = 0; i < 64; ++i) {
      const float value = float(i - 32);
      uint32_t bits;
      __builtin_memcpy(&bits, &value, 4);
      table[i] = uint16_t(bits >> 16);
    }
    low_table_ = _mm512_load_si512(table);
    high_table_ = _mm512_load_si512(table + 32);
  }

  Bf16Chunk convert(const DecodedChunk& decoded, bool dense) const {
    Bf16Chunk chunk;
    if (dense) {
      to_bf16(decoded.weights, chunk.weights[0], chunk.weights[1]);
      to_bf16(decoded.indices_or_high, chunk.weights[2], chunk.weights[3]);
      return chunk;
    }
    to_bf16(decoded.weights, chunk.weights[0], chunk.weights[1]);
    const __m512i sixty_four = _mm512_set1_epi16(64);
    for (int half = 0; half < 2; ++half) {
      chunk.columns[half] = _mm512_cvtepu8_epi16(half_of(decoded.indices_or_high, half));
      chunk.upper[half] = _mm512_test_epi16_mask(chunk.columns[half], sixty_four);
    }
    return chunk;
  }

  int slots() const { return slots_; }

 private:
  static __m256i half_of(__m512i bytes, int half) {
    return half == 0 ? _mm512_castsi512_si256(bytes) : _mm512_extracti64x4_epi64(bytes, 1);
  }

  // 64 signed bytes -> two registers of 32 bf16.
  void to_bf16(__m512i weights, __m512i& low, __m512i& high) const {
    if (through_table_) {
      const __m512i index = _mm512_add_epi8(weights, _mm512_set1_epi8(32));  // |w| <= 31 for codes of <= 5 bits
      low = _mm512_permutex2var_epi16(low_table_, _mm512_cvtepu8_epi16(half_of(index, 0)), high_table_);
      high = _mm512_permutex2var_epi16(low_table_, _mm512_cvtepu8_epi16(half_of(index, 1)), high_table_);
      return;
    }
    // (The quarter index is an immediate: spelled out, not looped, so that unoptimized builds compile.)
    const auto widen = [](__m128i bytes) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)); };
    const __m512 q0 = widen(_mm512_extracti32x4_epi32(weights, 0)), q1 = widen(_mm512_extracti32x4_epi32(weights, 1));
    const __m512 q2 = widen(_mm512_extracti32x4_epi32(weights, 2)), q3 = widen(_mm512_extracti32x4_epi32(weights, 3));
    // vcvtne2ps2bf16 puts its second operand in the low half.
    low = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(q1, q0));
    high = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(q3, q2));
  }

  int slots_;
  bool through_table_;
  __m512i low_table_;
  __m512i high_table_;
};

// The chunk's sum for one token (fp32 lanes, unscaled) added to `sum`, from its 128 bf16 activations.
template <bool Dense>
inline __m512 chunk_dot(__m512 sum, const Bf16Chunk& chunk, int slots, const uint16_t* activations) {
  const __m512i a0 = _mm512_loadu_si512(activations), a1 = _mm512_loadu_si512(activations + 32);
  const __m512i a2 = _mm512_loadu_si512(activations + 64), a3 = _mm512_loadu_si512(activations + 96);
  const auto dot = [](__m512 sum, __m512i x, __m512i w) {
    return _mm512_dpbf16_ps(sum, reinterpret_cast<__m512bh>(x), reinterpret_cast<__m512bh>(w));
  };
  if constexpr (Dense) {
    return dot(dot(dot(dot(sum, a0, chunk.weights[0]), a1, chunk.weights[1]), a2, chunk.weights[2]), a3,
               chunk.weights[3]);
  } else {
    if (slots == 64) {
      const __m512i low = _mm512_permutex2var_epi16(a0, chunk.columns[0], a1);
      const __m512i high = _mm512_permutex2var_epi16(a2, chunk.columns[1], a3);
      return dot(dot(sum, low, chunk.weights[0]), high, chunk.weights[1]);
    }
    // 32 slots or fewer, straddling the chunk's middle.
    const __m512i gathered =
        _mm512_mask_blend_epi16(chunk.upper[0], _mm512_permutex2var_epi16(a0, chunk.columns[0], a1),
                                _mm512_permutex2var_epi16(a2, chunk.columns[0], a3));
    return dot(sum, gathered, chunk.weights[0]);
  }
}

// The chunk's sum for the token at `offset`: high activations, then (a pair) the low ones into the same lanes.
template <bool Dense, bool Pair>
inline __m512 token_dot(const Bf16Chunk& chunk, int slots, const Bf16Activations& x, int64_t offset) {
  const __m512 high = chunk_dot<Dense>(_mm512_setzero_ps(), chunk, slots, x.values.data() + offset);
  if constexpr (Pair) return chunk_dot<Dense>(high, chunk, slots, x.low.data() + offset);
  return high;
}

constexpr int64_t kPrefetchDistance = 3072;  // bytes of codes ahead, as the int8 kernel

// Small batches: each chunk is decoded into registers and used at once by every token of the tile.
template <int Tokens, bool Dense, bool Pair>
void multiply_row(const PackedWeightsView& w, const CallConstants& constants, const Bf16Converter& converter,
                  const Bf16Activations& x, int64_t row, int64_t first_token, float* weight_scales, float* y) {
  const RowDecoder<Dense> decoder(w, constants, row);
  avx512::weight_scales_of_row(w, constants, row, weight_scales);
  __m512 sums[Tokens];
  for (int t = 0; t < Tokens; ++t) sums[t] = _mm512_setzero_ps();
  for (int64_t chunk = 0; chunk < constants.chunks; ++chunk) {
    if (Tokens <= 2 && chunk < decoder.full_chunks()) decoder.prefetch(chunk, kPrefetchDistance);
    const Bf16Chunk decoded = converter.convert(decoder.decode(chunk), Dense);
    const __m512 scale = _mm512_set1_ps(weight_scales[chunk]);
    for (int t = 0; t < Tokens; ++t) {
      const int64_t offset = (first_token + t) * x.row_stride + chunk * kChunk;
      sums[t] = _mm512_fmadd_ps(token_dot<Dense, Pair>(decoded, converter.slots(), x, offset), scale, sums[t]);
    }
  }
  for (int t = 0; t < Tokens; ++t) y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(sums[t]);
}

// Large batches, as the int8 kernel: blocks of kBlockRows rows decoded once into an L1-resident buffer, each chunk
// of a token's activations, once loaded, serving every row of the block.
constexpr int kBlockRows = 4;
constexpr int kBlockTokens = 4;

template <bool Dense, bool Pair>
void multiply_row_block(const PackedWeightsView& w, const CallConstants& constants, const Bf16Converter& converter,
                        const Bf16Activations& x, int64_t first_row, std::vector<Bf16Chunk>& decoded,
                        std::vector<float>& scales, float* y) {
  const int64_t chunks = constants.chunks;
  const int64_t scale_stride = chunks + 16;
  for (int r = 0; r < kBlockRows; ++r) {
    const RowDecoder<Dense> decoder(w, constants, first_row + r);
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      decoded[size_t(r * chunks + chunk)] = converter.convert(decoder.decode(chunk), Dense);
    avx512::weight_scales_of_row(w, constants, first_row + r, scales.data() + r * scale_stride);
  }
  const auto row_sum = [&](int r, int64_t chunk, int64_t offset, __m512 sum) {
    const __m512 dot = token_dot<Dense, Pair>(decoded[size_t(r * chunks + chunk)], converter.slots(), x, offset);
    return _mm512_fmadd_ps(dot, _mm512_set1_ps(scales[size_t(r * scale_stride + chunk)]), sum);
  };
  int64_t token = 0;
  for (; token + kBlockTokens <= x.batch; token += kBlockTokens) {
    __m512 sums[kBlockRows][kBlockTokens];
    for (auto& row_sums : sums)
      for (auto& sum : row_sums) sum = _mm512_setzero_ps();
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      for (int t = 0; t < kBlockTokens; ++t) {
        const int64_t offset = (token + t) * x.row_stride + chunk * kChunk;
        for (int r = 0; r < kBlockRows; ++r) sums[r][t] = row_sum(r, chunk, offset, sums[r][t]);
      }
    for (int r = 0; r < kBlockRows; ++r)
      for (int t = 0; t < kBlockTokens; ++t) y[(token + t) * w.rows + first_row + r] = _mm512_reduce_add_ps(sums[r][t]);
  }
  for (; token < x.batch; ++token)
    for (int r = 0; r < kBlockRows; ++r) {
      __m512 sum = _mm512_setzero_ps();
      for (int64_t chunk = 0; chunk < chunks; ++chunk)
        sum = row_sum(r, chunk, token * x.row_stride + chunk * kChunk, sum);
      y[token * w.rows + first_row + r] = _mm512_reduce_add_ps(sum);
    }
}

template <bool Dense, bool Pair>
void multiply_rows(const PackedWeightsView& w, const Bf16Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  const CallConstants constants(w, x.padded_cols / kChunk);
  const Bf16Converter converter(w, constants);
  std::vector<float> scales(size_t(kBlockRows * (constants.chunks + 16)));
  int64_t row = row_begin;
  if (x.batch >= kRowBlockBatch) {
    std::vector<Bf16Chunk> decoded(static_cast<size_t>(kBlockRows * constants.chunks));
    for (; row + kBlockRows <= row_end; row += kBlockRows)
      multiply_row_block<Dense, Pair>(w, constants, converter, x, row, decoded, scales, y);
  }
  for (; row < row_end; ++row) {
    int64_t token = 0;
    for (; token + 8 <= x.batch; token += 8)
      multiply_row<8, Dense, Pair>(w, constants, converter, x, row, token, scales.data(), y);
    if (token + 4 <= x.batch) {
      multiply_row<4, Dense, Pair>(w, constants, converter, x, row, token, scales.data(), y);
      token += 4;
    }
    if (token + 2 <= x.batch) {
      multiply_row<2, Dense, Pair>(w, constants, converter, x, row, token, scales.data(), y);
      token += 2;
    }
    if (token < x.batch) multiply_row<1, Dense, Pair>(w, constants, converter, x, row, token, scales.data(), y);
  }
}

}  // namespace

// The formats of the int8 kernel (the same decode) whose signed weights fit bf16 exactly: every one it takes.
bool supports(const PackedWeightsView& w) { return avx512::supports(w); }

void gemm(const PackedWeightsView& w, const Bf16Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  const bool dense = w.group_size == 1;
  if (x.pair()) {
    if (dense)
      multiply_rows<true, true>(w, x, row_begin, row_end, y);
    else
      multiply_rows<false, true>(w, x, row_begin, row_end, y);
  } else {
    if (dense)
      multiply_rows<true, false>(w, x, row_begin, row_end, y);
    else
      multiply_rows<false, false>(w, x, row_begin, row_end, y);
  }
}

}  // namespace nmscope::kernels::avx512_bf16
