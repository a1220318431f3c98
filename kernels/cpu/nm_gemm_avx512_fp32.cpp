// AVX-512 kernel for y = x W^T on the packed format (docs/packed-format.md) with the activations as they are, fp32:
// the CPU decoder's default where the format allows it (issue 23). The bf16 pair it replaces there held 16
// significant bits of each activation and gathered them with 16-bit permutes (vpermt2w: three micro-ops on port 5,
// twice per pair), which bound LLaMA-7B's step at batch 16 below Eigen's fp32 step; a 32-bit permute (vpermt2ps) is
// one micro-op, and fp32 is the reference's own precision.
//
// A chunk of 128 columns is decoded as for the int8 kernel (nm_gemm_avx512_decode.hpp), then widened once to fp32
// weights already multiplied by the chunk's scale s_w (the sum's one rounding moves from after the chunk to each
// product: both are fp32 roundings of the same exact terms). Dense chunks multiply the 128 activations in order. A
// sparse chunk of 64 slots (2:4, 4:8: M/N = 2) has its 16-slot quarters each inside one 32-column window (a group
// never straddles one), so each quarter's activations are gathered from two registers by one vpermt2ps; other
// patterns stay on the bf16 kernel. Batches below kRowBlockBatch use a tile of up to 8 tokens whose sums stay in
// registers; larger ones decode a block of rows chunk by chunk and run every token of the batch through each
// decoded chunk, so a chunk's activations are read from L2 once per row block, not once per row.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "nm_gemm_avx512_decode.hpp"

namespace nmscope::kernels::avx512_fp32 {

namespace {

using avx512::CallConstants;
using avx512::DecodedChunk;
using avx512::kChunk;
using avx512::RowDecoder;

// One chunk of one row as this kernel multiplies it: s_w * w in fp32, and for a sparse chunk each slot's column
// inside its quarter's 32-column window (vpermt2ps reads the index's low 5 bits: the column modulo 32).
struct Fp32Chunk {
  __m512 weights[8];   // dense: columns 16k..16k+15; sparse: slots 16k..16k+15 in weights[0..3]
  __m512i columns[4];  // sparse only
};

inline __m512 widen(__m128i bytes, __m512 scale) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)), scale);
}

// (Quarter indices are immediates: spelled out, not looped, so that unoptimized builds compile.)
inline void widen_all(__m512i bytes, __m512 scale, __m512* out) {
  out[0] = widen(_mm512_extracti32x4_epi32(bytes, 0), scale);
  out[1] = widen(_mm512_extracti32x4_epi32(bytes, 1), scale);
  out[2] = widen(_mm512_extracti32x4_epi32(bytes, 2), scale);
  out[3] = widen(_mm512_extracti32x4_epi32(bytes, 3), scale);
}

template <bool Dense>
inline Fp32Chunk convert(const DecodedChunk& decoded, float scale) {
  Fp32Chunk chunk;
  const __m512 s = _mm512_set1_ps(scale);
  widen_all(decoded.weights, s, chunk.weights);
  if constexpr (Dense) {
    widen_all(decoded.indices_or_high, s, chunk.weights + 4);
  } else {
    const __m512i columns = decoded.indices_or_high;
    chunk.columns[0] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(columns, 0));
    chunk.columns[1] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(columns, 1));
    chunk.columns[2] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(columns, 2));
    chunk.columns[3] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(columns, 3));
  }
  return chunk;
}

// The chunk's products for the token whose 128 activations start at `a`, added to two sums (two dependency chains).
template <bool Dense>
inline void chunk_dot(const Fp32Chunk& chunk, const float* a, __m512& even, __m512& odd) {
  if constexpr (Dense) {
    for (int k = 0; k < 8; k += 2) {
      even = _mm512_fmadd_ps(_mm512_loadu_ps(a + 16 * k), chunk.weights[k], even);
      odd = _mm512_fmadd_ps(_mm512_loadu_ps(a + 16 * k + 16), chunk.weights[k + 1], odd);
    }
  } else {
    const auto gathered = [&](int quarter) {
      return _mm512_permutex2var_ps(_mm512_loadu_ps(a + 32 * quarter), chunk.columns[quarter],
                                    _mm512_loadu_ps(a + 32 * quarter + 16));
    };
    even = _mm512_fmadd_ps(gathered(0), chunk.weights[0], even);
    odd = _mm512_fmadd_ps(gathered(1), chunk.weights[1], odd);
    even = _mm512_fmadd_ps(gathered(2), chunk.weights[2], even);
    odd = _mm512_fmadd_ps(gathered(3), chunk.weights[3], odd);
  }
}

constexpr int64_t kPrefetchDistance = 3072;  // bytes of codes ahead, as the int8 kernel

// Small batches: each chunk is decoded into registers and used at once by every token of the tile.
template <int Tokens, bool Dense>
void multiply_row(const PackedWeightsView& w, const CallConstants& constants, const Fp32Activations& x, int64_t row,
                  int64_t first_token, float* weight_scales, float* y) {
  const RowDecoder<Dense> decoder(w, constants, row);
  avx512::weight_scales_of_row(w, constants, row, weight_scales);
  __m512 even[Tokens], odd[Tokens];
  for (int t = 0; t < Tokens; ++t) even[t] = odd[t] = _mm512_setzero_ps();
  for (int64_t chunk = 0; chunk < constants.chunks; ++chunk) {
    if (Tokens <= 2 && chunk < decoder.full_chunks()) decoder.prefetch(chunk, kPrefetchDistance);
    const Fp32Chunk decoded = convert<Dense>(decoder.decode(chunk), weight_scales[chunk]);
    for (int t = 0; t < Tokens; ++t)
      chunk_dot<Dense>(decoded, x.values.data() + (first_token + t) * x.row_stride + chunk * kChunk, even[t], odd[t]);
  }
  for (int t = 0; t < Tokens; ++t)
    y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(_mm512_add_ps(even[t], odd[t]));
}

// A single token: two rows far apart walked chunk by chunk together, two streams of codes in flight per thread (as
// the int8 kernel does: one stream's prefetches alone fill the line-fill buffers).
template <bool Dense>
void multiply_two_rows(const PackedWeightsView& w, const CallConstants& constants, const Fp32Activations& x,
                       int64_t row_a, int64_t row_b, float* scales_a, float* scales_b, float* y) {
  const RowDecoder<Dense> a(w, constants, row_a), b(w, constants, row_b);
  avx512::weight_scales_of_row(w, constants, row_a, scales_a);
  avx512::weight_scales_of_row(w, constants, row_b, scales_b);
  __m512 even_a = _mm512_setzero_ps(), odd_a = _mm512_setzero_ps();
  __m512 even_b = _mm512_setzero_ps(), odd_b = _mm512_setzero_ps();
  for (int64_t chunk = 0; chunk < constants.chunks; ++chunk) {
    if (chunk < a.full_chunks()) {
      a.prefetch(chunk, kPrefetchDistance);
      b.prefetch(chunk, kPrefetchDistance);
    }
    const float* activations = x.values.data() + chunk * kChunk;
    chunk_dot<Dense>(convert<Dense>(a.decode(chunk), scales_a[chunk]), activations, even_a, odd_a);
    chunk_dot<Dense>(convert<Dense>(b.decode(chunk), scales_b[chunk]), activations, even_b, odd_b);
  }
  y[row_a] = _mm512_reduce_add_ps(_mm512_add_ps(even_a, odd_a));
  y[row_b] = _mm512_reduce_add_ps(_mm512_add_ps(even_b, odd_b));
}

// Large batches: kBlockRows rows walked chunk by chunk; each row's chunk, decoded into registers, meets every token
// of the batch, whose running sums live in `sums` ([row][token][16 lanes], L1-resident; plain floats, since a
// std::vector of __m512 drops the type's alignment attribute).
constexpr int kBlockRows = 8;
constexpr int64_t kBlockPrefetchDistance = 256;  // bytes of codes ahead in each row of the block

template <bool Dense>
void multiply_row_block(const PackedWeightsView& w, const CallConstants& constants, const Fp32Activations& x,
                        int64_t first_row, std::vector<float>& scales, std::vector<float>& sums, float* y) {
  const int64_t chunks = constants.chunks, scale_stride = chunks + 16, batch = x.batch;
  std::vector<RowDecoder<Dense>> decoders;
  decoders.reserve(kBlockRows);
  for (int r = 0; r < kBlockRows; ++r) {
    decoders.emplace_back(w, constants, first_row + r);
    avx512::weight_scales_of_row(w, constants, first_row + r, scales.data() + r * scale_stride);
  }
  std::fill(sums.begin(), sums.end(), 0.0f);
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (int r = 0; r < kBlockRows; ++r) {
      // Eight interleaved streams, each advancing one chunk per batch of tokens: the hardware prefetcher alone
      // left half the loads of codes missing L2 (perf, LLaMA-7B at batch 16).
      if (chunk < decoders[size_t(r)].full_chunks()) decoders[size_t(r)].prefetch(chunk, kBlockPrefetchDistance);
      const Fp32Chunk decoded =
          convert<Dense>(decoders[size_t(r)].decode(chunk), scales[size_t(r * scale_stride + chunk)]);
      float* row_sums = sums.data() + r * batch * 16;
      const float* a = x.values.data() + chunk * kChunk;
      for (int64_t token = 0; token < batch; ++token, a += x.row_stride) {
        __m512 even = _mm512_loadu_ps(row_sums + 16 * token), odd = _mm512_setzero_ps();
        chunk_dot<Dense>(decoded, a, even, odd);
        _mm512_storeu_ps(row_sums + 16 * token, _mm512_add_ps(even, odd));
      }
    }
  for (int r = 0; r < kBlockRows; ++r)
    for (int64_t token = 0; token < batch; ++token)
      y[token * w.rows + first_row + r] = _mm512_reduce_add_ps(_mm512_loadu_ps(sums.data() + (r * batch + token) * 16));
}

template <bool Dense>
void multiply_rows(const PackedWeightsView& w, const Fp32Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  const CallConstants constants(w, x.padded_cols / kChunk);
  std::vector<float> scales(size_t(kBlockRows * (constants.chunks + 16)));
  int64_t row = row_begin;
  if (x.batch >= kRowBlockBatch) {
    std::vector<float> sums(size_t(kBlockRows * x.batch * 16));
    for (; row + kBlockRows <= row_end; row += kBlockRows)
      multiply_row_block<Dense>(w, constants, x, row, scales, sums, y);
  }
  if (x.batch == 1) {
    const int64_t half = (row_end - row) / 2, stride = constants.chunks + 16;
    for (int64_t i = 0; i < half; ++i)
      multiply_two_rows<Dense>(w, constants, x, row + i, row + half + i, scales.data(), scales.data() + stride, y);
    row += 2 * half;
  }
  for (; row < row_end; ++row) {
    int64_t token = 0;
    for (; token + 8 <= x.batch; token += 8) multiply_row<8, Dense>(w, constants, x, row, token, scales.data(), y);
    if (token + 4 <= x.batch) {
      multiply_row<4, Dense>(w, constants, x, row, token, scales.data(), y);
      token += 4;
    }
    if (token + 2 <= x.batch) {
      multiply_row<2, Dense>(w, constants, x, row, token, scales.data(), y);
      token += 2;
    }
    if (token < x.batch) multiply_row<1, Dense>(w, constants, x, row, token, scales.data(), y);
  }
}

}  // namespace

// Dense formats and sparse ones of 64 slots per chunk whose signed weights the int8 kernel's decode takes.
bool supports(const PackedWeightsView& w) {
  if (!avx512::supports(w)) return false;
  return w.group_size == 1 || avx512::geometry_of(w).slots == 64;
}

void gemm(const PackedWeightsView& w, const Fp32Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  if (w.group_size == 1)
    multiply_rows<true>(w, x, row_begin, row_end, y);
  else
    multiply_rows<false>(w, x, row_begin, row_end, y);
}

}  // namespace nmscope::kernels::avx512_fp32
