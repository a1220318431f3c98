#pragma once
// The horizontal sum the AVX2 kernels (nm_gemm_avx2.cpp, nm_gemm_avx2_fp32.cpp) end each row with. Only those two
// files include it, both compiled with the AVX2 flags.
#include <immintrin.h>

namespace nmscope::kernels::avx2 {

inline float horizontal_sum(__m256 value) {
  const __m128 folded = _mm_add_ps(_mm256_castps256_ps128(value), _mm256_extractf128_ps(value, 1));
  const __m128 pairs = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

}  // namespace nmscope::kernels::avx2
