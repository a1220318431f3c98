#pragma once
// y = x W^T with W in the packed N:M low-bit format (docs/packed-format.md), computed directly from the packed
// buffers: no dense copy of W is ever made.
//
// Two kinds of kernel share this interface:
//  - the scalar reference (fp32 activations, exact decode), kept forever and linked in every build;
//  - the SIMD kernels, which quantize each token's activations to int8 per block of 128 columns (a scale per block,
//    as ggml's Q8 blocks do) and multiply with integer dot products; their error against the reference is what the
//    engine reports as engine_rel_err.
// nm_gemm() is the one entry point the engines and the decoder call: it picks the instruction set per format, quantizes
// the activations once and splits the rows over threads. The per-ISA kernels below it are single-threaded over a
// range of output rows.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/kernels/packed_weights_view.hpp"

namespace nmscope::kernels {

enum class Isa { Reference, Avx2, Avx512Vnni };

std::string isa_name(Isa isa);
// The widest instruction set this CPU runs (decided once, from CPUID).
Isa best_isa();
bool isa_available(Isa isa);

// Activations x [batch, K] quantized for the SIMD kernels: per token and block of 128 columns, s = absmax / 127,
// q = round(x / s) stored offset by +128 as unsigned bytes; K is padded with zeros to a multiple of 128.
struct QuantizedActivations {
  static constexpr int kBlock = 128;
  int64_t batch = 0;
  int64_t cols = 0;
  int64_t padded_cols = 0;
  // Bytes from one token's row to the next: padded_cols + 64, so the rows of a token tile do not all map to the
  // same L1 set (K = 4096 would put them exactly 4 KiB apart).
  int64_t row_stride = 0;
  std::vector<uint8_t> values;   // [batch, row_stride] (+ 64 bytes of slack), q + 128
  std::vector<float> scales;     // [batch, padded_cols / 128]
};
void quantize_activations(const float* x, int64_t batch, int64_t cols, QuantizedActivations& out);

// The scalar reference: rows [row_begin, row_end) of y [batch, rows] (row-major, stride rows).
void nm_gemm_reference(const PackedWeightsView& weights, const float* x, int64_t batch, int64_t row_begin,
                       int64_t row_end, float* y);

// The reference of what the SIMD kernels compute: the same int8 activations, sums per 128-column chunk scaled by
// s_w * s_x, in double. SIMD results must match it to float rounding (the tests pin this).
void nm_gemm_reference_quantized(const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin,
                                 int64_t row_end, float* y);

// The instruction set that runs `weights` on this CPU: the widest whose kernel takes the format, down the ladder
// AVX-512 VNNI -> AVX2 -> reference (a format AVX-512 refuses, such as 3:4's 96 slots per chunk, runs on AVX2).
Isa isa_for(const PackedWeightsView& weights);

// What a caller of nm_gemm keeps across calls so that repeated products allocate nothing.
struct NmGemmScratch {
  QuantizedActivations activations;
};

// y [batch, rows] = x [batch, K] W^T over every row: isa_for's kernel, int8 activations quantized once per call for a
// SIMD kernel, rows split into blocks over up to `threads` workers of the calling TBB arena (blocks long enough to
// amortize each row's decode setup). Returns the instruction set that ran.
Isa nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
            NmGemmScratch& scratch);

// Whether a SIMD kernel of `isa` has a path for this format (else the caller uses the reference).
bool simd_supports(Isa isa, const PackedWeightsView& weights);
// Rows [row_begin, row_end) of y from int8 activations; `isa` must be Avx2 or Avx512Vnni and supported.
void nm_gemm_simd(Isa isa, const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin,
                  int64_t row_end, float* y);

}  // namespace nmscope::kernels
