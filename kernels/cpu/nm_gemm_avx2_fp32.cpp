// AVX2 kernel for y = x W^T on the packed format (docs/packed-format.md) with fp32 activations: the CPU decoder's
// exact path on CPUs without AVX-512 VNNI + VBMI (and on any N:M format the AVX-512 fp32 kernel does not take, where
// no bf16 kernel runs either). As the AVX2 int8 kernel: a row is decoded once (s_w * w in fp32 and the column of each
// slot) and reused for every token; each slot's activation is fetched with a 32-bit gather at its column.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "nm_gemm_avx2_sum.hpp"
#include "nm_gemm_isa.hpp"
#include "nmscope/kernels/bit_string.hpp"

namespace nmscope::kernels::avx2_fp32 {

namespace {

constexpr int kChunk = QuantizedActivations::kBlock;
using avx2::horizontal_sum;

}  // namespace

bool supports(const PackedWeightsView& w) { return avx2::supports(w); }

void gemm(const PackedWeightsView& w, const Fp32Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  const int64_t chunks = x.padded_cols / kChunk;
  // Slots of a row, rounded up to whole gathers of 8 (extra slots carry weight 0 at column 0).
  const int64_t padded_slots = (w.slots_per_row + 7) / 8 * 8;
  const int64_t chunk_slots = w.group_size == 1 ? kChunk : kChunk / w.group_size * w.kept_per_group;
  std::vector<float> weights(static_cast<size_t>(padded_slots));
  std::vector<int32_t> columns(static_cast<size_t>(padded_slots));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const uint8_t* values = w.values + row * w.value_row_bytes;
    std::fill(weights.begin(), weights.end(), 0.0f);
    std::fill(columns.begin(), columns.end(), 0);
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t scale_index = w.scale_index(row, chunk * kChunk);
      const float scale = _cvtsh_ss(w.scales[scale_index]);
      const int zero = w.zero_point(scale_index);
      for (int64_t index = 0; index < chunk_slots; ++index) {
        const int64_t slot = chunk * chunk_slots + index;
        if (slot >= w.slots_per_row) break;
        weights[size_t(slot)] = scale * float(int32_t(read_bits(values, slot, w.bits)) - zero);
        columns[size_t(slot)] = int32_t(w.column_of(row, slot));  // < padded_cols: padding columns hold 0
      }
    }
    for (int64_t token = 0; token < x.batch; ++token) {
      const float* activations = x.values.data() + token * x.row_stride;
      __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
      int64_t slot = 0;
      for (; slot + 16 <= padded_slots; slot += 16) {
        const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&columns[size_t(slot)]));
        const __m256i second = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&columns[size_t(slot + 8)]));
        even =
            _mm256_fmadd_ps(_mm256_i32gather_ps(activations, first, 4), _mm256_loadu_ps(&weights[size_t(slot)]), even);
        odd = _mm256_fmadd_ps(_mm256_i32gather_ps(activations, second, 4), _mm256_loadu_ps(&weights[size_t(slot + 8)]),
                              odd);
      }
      if (slot < padded_slots) {
        const __m256i column = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&columns[size_t(slot)]));
        even =
            _mm256_fmadd_ps(_mm256_i32gather_ps(activations, column, 4), _mm256_loadu_ps(&weights[size_t(slot)]), even);
      }
      y[token * w.rows + row] = horizontal_sum(_mm256_add_ps(even, odd));
    }
  }
}

}  // namespace nmscope::kernels::avx2_fp32
