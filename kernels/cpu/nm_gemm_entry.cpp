// The one CPU entry point: the ISA ladder per format, activation quantization and threading in one place, so the
// engine and the decoder run the same code path (they used to choose each on their own).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>

#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels {

Isa isa_for(const PackedWeightsView& weights) {
  for (Isa isa : {Isa::Avx512Vnni, Isa::Avx2})
    if (simd_supports(isa, weights)) return isa;
  return Isa::Reference;
}

Isa nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
            NmGemmScratch& scratch) {
  const Isa isa = isa_for(weights);
  if (isa != Isa::Reference) quantize_activations(x, batch, weights.cols, scratch.activations);
  // Enough row blocks to balance the threads (8 per thread), each of at least 4 rows.
  const int64_t block = std::max<int64_t>(4, weights.rows / (8 * std::max(threads, 1)));
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, weights.rows, block),
      [&](const tbb::blocked_range<int64_t>& range) {
        if (isa == Isa::Reference)
          nm_gemm_reference(weights, x, batch, range.begin(), range.end(), y);
        else
          nm_gemm_simd(isa, weights, scratch.activations, range.begin(), range.end(), y);
      },
      tbb::simple_partitioner());
  return isa;
}

}  // namespace nmscope::kernels
