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
#include <vector>

#include "nm_gemm_avx512_decode.hpp"

namespace nmscope::kernels::avx512 {

namespace {

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
    const int64_t chunks = constants_.chunks;
    weight_scales_of_row(w_, constants_, row, weight_.data());
    for (int64_t t = 0; t < tokens; ++t) {
      const float* token_scales = x.scales.data() + (first_token + t) * chunks;
      float* out = product_.data() + t * chunks;
      for (int64_t chunk = 0; chunk < chunks; chunk += 16) {
        const __mmask16 live = first_lanes(chunks - chunk);
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

// A single token: two rows far apart walked chunk by chunk together, so each thread keeps two streams of codes in
// flight (one stream's prefetches alone fill the line-fill buffers and leave the memory idle between them).
template <bool Dense>
void multiply_two_rows(const PackedWeightsView& w, const CallConstants& constants, const QuantizedActivations& x,
                       int64_t row_a, int64_t row_b, ChunkScales& scales_a, ChunkScales& scales_b, float* y) {
  const RowDecoder<Dense> a(w, constants, row_a), b(w, constants, row_b);
  scales_a.fill(row_a, x, 0, 1);
  scales_b.fill(row_b, x, 0, 1);
  const float* factors_a = scales_a.of_token(0);
  const float* factors_b = scales_b.of_token(0);
  const uint8_t* activations = x.values.data();
  __m512 sum_a = _mm512_setzero_ps(), sum_b = _mm512_setzero_ps();
  const auto step = [&](const DecodedChunk& da, const DecodedChunk& db, int64_t chunk) {
    sum_a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_dot<Dense>(da, activations + chunk * kChunk)),
                            _mm512_set1_ps(factors_a[chunk]), sum_a);
    sum_b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_dot<Dense>(db, activations + chunk * kChunk)),
                            _mm512_set1_ps(factors_b[chunk]), sum_b);
  };
  int64_t chunk = 0;
  for (; chunk < a.full_chunks(); ++chunk) {
    a.prefetch(chunk, kPrefetchDistance);
    b.prefetch(chunk, kPrefetchDistance);
    step(a.decode_full(chunk), b.decode_full(chunk), chunk);
  }
  for (; chunk < constants.chunks; ++chunk) step(a.decode_tail(chunk), b.decode_tail(chunk), chunk);
  y[row_a] = _mm512_reduce_add_ps(sum_a);
  y[row_b] = _mm512_reduce_add_ps(sum_b);
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
  if (x.batch >= kRowBlockBatch) {
    std::vector<DecodedChunk> decoded(static_cast<size_t>(kBlockRows * constants.chunks));
    std::vector<ChunkScales> scales(kBlockRows, ChunkScales(w, constants, x.batch));
    for (; row + kBlockRows <= row_end; row += kBlockRows)
      multiply_row_block<Dense>(w, constants, x, row, decoded, scales, y);
  }
  ChunkScales scales(w, constants, 8);
  if (x.batch == 1) {
    ChunkScales second(w, constants, 1);
    const int64_t half = (row_end - row) / 2;
    for (int64_t i = 0; i < half; ++i)
      multiply_two_rows<Dense>(w, constants, x, row + i, row + half + i, scales, second, y);
    row += 2 * half;
  }
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
