// AVX2 kernel for y = x W^T on the packed format (docs/packed-format.md), int8 activations: the fallback for CPUs
// without AVX-512 VBMI/VNNI. Without a byte permutation over 128 bytes, each slot's activation is fetched with a
// 32-bit gather at its column; a row is decoded once (signed weight and column per slot, scale per 128-column
// chunk) and reused for every token. Products are exact in int32; each chunk's sum is scaled by s_w * s_x in fp32.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "nm_gemm_avx2_sum.hpp"
#include "nm_gemm_isa.hpp"
#include "nmscope/kernels/bit_string.hpp"

namespace nmscope::kernels::avx2 {

namespace {

constexpr int kChunk = QuantizedActivations::kBlock;

}  // namespace

bool supports(const PackedWeightsView& w) {
  return w.bits >= 2 && w.bits <= 8 && kChunk % w.group_size == 0 && (w.quant_group == 0 || w.quant_group % kChunk == 0);
}

void gemm(const PackedWeightsView& w, const QuantizedActivations& x, int64_t row_begin, int64_t row_end, float* y) {
  const int64_t chunks = x.padded_cols / kChunk;
  // Slots of a chunk: 128 * N / M, rounded up to whole gathers of 8 (extra slots carry weight 0).
  const int64_t chunk_slots = w.group_size == 1 ? kChunk : kChunk / w.group_size * w.kept_per_group;
  const int64_t padded_chunk_slots = (chunk_slots + 7) / 8 * 8;
  std::vector<int32_t> weights(size_t(chunks * padded_chunk_slots));
  std::vector<int32_t> columns(size_t(chunks * padded_chunk_slots));
  std::vector<float> scales(static_cast<size_t>(chunks));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const uint8_t* values = w.values + row * w.value_row_bytes;
    std::fill(weights.begin(), weights.end(), 0);
    std::fill(columns.begin(), columns.end(), 0);
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t scale_index = w.scale_index(row, chunk * kChunk);
      scales[size_t(chunk)] = _cvtsh_ss(w.scales[scale_index]);
      const int zero = w.zero_point(scale_index);
      for (int64_t index = 0; index < chunk_slots; ++index) {
        const int64_t slot = chunk * chunk_slots + index;
        if (slot >= w.slots_per_row) break;
        const size_t out = size_t(chunk * padded_chunk_slots + index);
        weights[out] = int32_t(read_bits(values, slot, w.bits)) - zero;
        columns[out] = int32_t(w.column_of(row, slot));  // < padded_cols: padding columns hold q = 0
      }
    }
    for (int64_t token = 0; token < x.batch; ++token) {
      const int* activations = reinterpret_cast<const int*>(x.values.data() + token * x.row_stride);
      __m256 sum = _mm256_setzero_ps();
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        __m256i dot = _mm256_setzero_si256();
        for (int64_t index = 0; index < padded_chunk_slots; index += 8) {
          const size_t at = size_t(chunk * padded_chunk_slots + index);
          const __m256i column = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&columns[at]));
          // 4 bytes from each column's address; the low byte is the activation (q + 128).
          const __m256i gathered = _mm256_i32gather_epi32(activations, column, 1);
          const __m256i activation = _mm256_sub_epi32(_mm256_and_si256(gathered, _mm256_set1_epi32(0xff)), _mm256_set1_epi32(128));
          const __m256i weight = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&weights[at]));
          dot = _mm256_add_epi32(dot, _mm256_mullo_epi32(activation, weight));
        }
        const float scale = scales[size_t(chunk)] * x.scales[size_t(token * chunks + chunk)];
        sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(scale), sum);
      }
      y[token * w.rows + row] = horizontal_sum(sum);
    }
  }
}

}  // namespace nmscope::kernels::avx2
