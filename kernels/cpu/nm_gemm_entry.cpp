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

NmGemmPath nm_gemm_path(const PackedWeightsView& weights, ActivationPrecision precision) {
  NmGemmPath path;
  path.isa = isa_for(weights);
  if (precision == ActivationPrecision::Fp32) {
    // The AVX-512 fp32 kernel, else the bf16 pair (as exact, faster than gathers), else the AVX2 fp32 kernel, else
    // the reference: fp32 activations are never answered with int8 ones.
    path.activations = ActivationPrecision::Fp32;
    path.isa = fp32_kernel_isa(weights);
    if (path.isa == Isa::Avx512Vnni) return path;
    if (bf16_kernel_supports(weights)) {
      path.isa = Isa::Avx512Vnni;
      path.activations = ActivationPrecision::Bf16Pair;
    }
    return path;
  }
  if (precision != ActivationPrecision::Int8 && bf16_kernel_supports(weights)) {
    path.isa = Isa::Avx512Vnni;  // the bf16 kernel decodes with the int8 kernel's VNNI + VBMI code
    path.activations = precision;
  }
  return path;
}

int64_t amx_int8_batch(const PackedWeightsView& weights) { return weights.group_size == 1 ? 8 : 12; }

NmGemmPath nm_gemm_path(const PackedWeightsView& weights, ActivationPrecision precision, int64_t batch) {
  NmGemmPath path = nm_gemm_path(weights, precision);
  if (path.activations == ActivationPrecision::Int8) {
    path.amx = path.isa == Isa::Avx512Vnni && batch >= amx_int8_batch(weights) && amx_kernel_supports(weights);
  } else if (batch >= kAmxBatch && amx_bf16_kernel_supports(weights)) {
    // bf16 asked for stays bf16; the pair and fp32 take the pair (fp32's exact kernels are no faster than its error).
    path.amx = true;
    path.isa = Isa::Avx512Vnni;
    path.activations =
        precision == ActivationPrecision::Bf16 ? ActivationPrecision::Bf16 : ActivationPrecision::Bf16Pair;
  }
  return path;
}

NmGemmPath nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
                   NmGemmScratch& scratch, ActivationPrecision precision) {
  const NmGemmPath path = nm_gemm_path(weights, precision, batch);
  const bool fp32 = path.activations == ActivationPrecision::Fp32;
  const bool bf16 = path.activations != ActivationPrecision::Int8 && !fp32;
  if (fp32 && path.isa != Isa::Reference)
    pad_activations(x, batch, weights.cols, scratch.fp32_activations);
  else if (bf16)
    round_activations_to_bf16(x, batch, weights.cols, scratch.bf16_activations,
                              path.activations == ActivationPrecision::Bf16Pair);
  else if (path.isa != Isa::Reference)
    quantize_activations(x, batch, weights.cols, scratch.activations);
  if (path.amx && !bf16) arrange_token_tiles(scratch.activations, scratch.token_tiles);
  if (path.amx && bf16) arrange_bf16_token_tiles(scratch.bf16_activations, scratch.bf16_token_tiles);
  // Enough row blocks to balance the threads (8 per thread), each of at least 4 rows (AMX: whole tiles of 16).
  int64_t block = std::max<int64_t>(4, weights.rows / (8 * std::max(threads, 1)));
  if (path.amx) block = (block + 15) / 16 * 16;
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, weights.rows, block),
      [&](const tbb::blocked_range<int64_t>& range) {
        if (fp32 && path.isa != Isa::Reference)
          nm_gemm_fp32(weights, scratch.fp32_activations, range.begin(), range.end(), y, path.isa);
        else if (fp32)
          nm_gemm_reference(weights, x, batch, range.begin(), range.end(), y);
        else if (bf16 && path.amx)
          nm_gemm_amx_bf16(weights, scratch.bf16_activations, scratch.bf16_token_tiles, range.begin(), range.end(), y);
        else if (bf16)
          nm_gemm_bf16(weights, scratch.bf16_activations, range.begin(), range.end(), y);
        else if (path.amx)
          nm_gemm_amx(weights, scratch.activations, scratch.token_tiles, range.begin(), range.end(), y);
        else if (path.isa == Isa::Reference)
          nm_gemm_reference(weights, x, batch, range.begin(), range.end(), y);
        else
          nm_gemm_simd(path.isa, weights, scratch.activations, range.begin(), range.end(), y);
      },
      tbb::simple_partitioner());
  return path;
}

Isa nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
            NmGemmScratch& scratch) {
  return nm_gemm(weights, x, batch, y, threads, scratch, ActivationPrecision::Int8).isa;
}

}  // namespace nmscope::kernels
