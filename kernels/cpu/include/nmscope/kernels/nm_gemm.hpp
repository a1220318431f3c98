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

// (Both activation layouts below are written down in docs/packed-format.md, "Activations as the CPU kernels take
// them".)
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

// Activations x [batch, K] rounded to bf16 (to nearest, ties to even) for the bf16 kernel: no block scale, so an
// outlier costs its neighbours nothing. K is padded with zeros to a multiple of 128; rows are row_stride elements
// apart (padded_cols + 32, for the same reason as QuantizedActivations). As a pair, x = high + low with low = bf16(x -
// high): 16 significant bits, 2^-17 of each activation, for twice the products.
struct Bf16Activations {
  int64_t batch = 0;
  int64_t cols = 0;
  int64_t padded_cols = 0;
  int64_t row_stride = 0;
  std::vector<uint16_t> values;  // [batch, row_stride] (+ 32 elements of slack), bf16 bits: high
  std::vector<uint16_t> low;     // the same shape for a pair, else empty
  bool pair() const { return !low.empty(); }
};
void round_activations_to_bf16(const float* x, int64_t batch, int64_t cols, Bf16Activations& out, bool pair = false);
float bf16_bits_to_float(uint16_t bits);

// Activations x [batch, K] as they are, fp32, for the fp32 kernel: K padded with zeros to a multiple of 128, rows
// row_stride elements apart (padded_cols + 16, for the same reason as QuantizedActivations).
struct Fp32Activations {
  int64_t batch = 0;
  int64_t cols = 0;
  int64_t padded_cols = 0;
  int64_t row_stride = 0;
  std::vector<float> values;  // [batch, row_stride]
};
void pad_activations(const float* x, int64_t batch, int64_t cols, Fp32Activations& out);

// What the SIMD kernels multiply the weights with: int8 per 128 columns (the VNNI kernels, fastest), bf16, or a
// bf16 pair (the AVX-512 BF16 kernel; int8 activations move a real model's logits by percents, bf16 by about 1 %,
// the pair by none that matters), or fp32 as given (the fp32 kernel: dense and M/N = 2 formats; elsewhere it falls
// back to the bf16 pair, and the path says so).
enum class ActivationPrecision { Int8, Bf16, Bf16Pair, Fp32 };
// "int8 per 128 columns", "bf16", "bf16 pair (high + low)", "fp32"
std::string activation_precision_name(ActivationPrecision precision);

// The scalar reference: rows [row_begin, row_end) of y [batch, rows] (row-major, stride rows).
void nm_gemm_reference(const PackedWeightsView& weights, const float* x, int64_t batch, int64_t row_begin,
                       int64_t row_end, float* y);

// The reference of what the SIMD kernels compute: the same int8 activations, sums per 128-column chunk scaled by
// s_w * s_x, in double. SIMD results must match it to float rounding (the tests pin this).
void nm_gemm_reference_quantized(const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin,
                                 int64_t row_end, float* y);

// The reference of the bf16 kernel: the same bf16 activations, exact weights, in double.
void nm_gemm_reference_bf16(const PackedWeightsView& weights, const Bf16Activations& x, int64_t row_begin,
                            int64_t row_end, float* y);

// The instruction set that runs `weights` on this CPU: the widest whose kernel takes the format, down the ladder
// AVX-512 VNNI -> AVX2 -> reference (a format AVX-512 refuses, such as 3:4's 96 slots per chunk, runs on AVX2).
Isa isa_for(const PackedWeightsView& weights);

// The int8 activations in tiles of 16 tokens, four columns per 4-byte lane, signed: the AMX kernel's B operand
// (docs/packed-format.md, "AMX tiles"). Tokens in tiles of 16 (the last padded with zero tokens), per tile and chunk
// two blocks (columns 0-63, 64-127) of 16 rows x 64 bytes, row k4 holding columns 4 k4 .. 4 k4 + 3 of each token in
// turn (byte 4 t + j: token t, column 4 k4 + j); and each tile's 16 token scales per chunk (0 for padding).
struct TokenTiles {
  int64_t batch = 0;
  int64_t chunks = 0;
  int64_t token_tiles = 0;
  std::vector<int8_t> values;  // [token tile][chunk][half][16][64], 64-byte aligned from values_offset
  std::vector<float> scales;   // [token tile][chunk][16]
  int64_t values_offset = 0;
  const int8_t* tile(int64_t token_tile, int64_t chunk) const {
    return values.data() + values_offset + (token_tile * chunks + chunk) * 2048;
  }
  const float* tile_scales(int64_t token_tile, int64_t chunk) const {
    return scales.data() + (token_tile * chunks + chunk) * 16;
  }
};
// Needs AVX-512 (every CPU with AMX has it).
void arrange_token_tiles(const QuantizedActivations& x, TokenTiles& out);

// bf16 activations (a pair: high and low) as the AMX bf16 kernel's B tiles (docs/packed-format.md, "AMX tiles"): tokens
// in tiles of 16 (the last padded with zero tokens), per tile and chunk four quarters (32 columns each) of 16 rows x
// 32 bf16, row k2 holding columns 2 k2, 2 k2 + 1 of each token in turn.
struct Bf16TokenTiles {
  int64_t batch = 0;
  int64_t chunks = 0;
  int64_t token_tiles = 0;
  bool pair = false;
  std::vector<uint16_t> high, low;  // [token tile][chunk][quarter][16][32], 64-byte aligned from the offsets
  int64_t high_offset = 0, low_offset = 0;
  const uint16_t* tile_high(int64_t token_tile, int64_t chunk) const {
    return high.data() + high_offset + (token_tile * chunks + chunk) * 2048;
  }
  const uint16_t* tile_low(int64_t token_tile, int64_t chunk) const {
    return pair ? low.data() + low_offset + (token_tile * chunks + chunk) * 2048 : nullptr;
  }
};
// Needs AVX-512 (every CPU with AMX has it).
void arrange_bf16_token_tiles(const Bf16Activations& x, Bf16TokenTiles& out);

// From this batch on nm_gemm runs bf16, bf16-pair and fp32 requests on AMX bf16 tiles with a bf16 pair (fp32: as
// exact as the pair) where the CPU has AMX-BF16, unless the environment sets NMSCOPE_CPU_NO_AMX: a tile product
// serves 16 tokens, so a smaller batch pays for padding. (int8 activations: amx_int8_batch.)
inline constexpr int64_t kAmxBatch = 16;
// From this batch on nm_gemm runs int8 activations on AMX int8 tiles where the CPU has AMX-INT8 (and
// NMSCOPE_CPU_NO_AMX is unset): earlier than bf16, where the row kernels' per-token work outgrows the padding (measured
// on 4096 x 4096, one thread, docs/PERFORMANCE.md "The AMX int8 kernel"): dense from 8 tokens, N:M (whose VNNI
// kernel multiplies half the slots) from 12.
int64_t amx_int8_batch(const PackedWeightsView& weights);
// Whether this CPU runs the AMX int8 kernel on this format (AMX-INT8 present, tile state granted by the OS, the format
// one the VNNI kernel decodes).
bool amx_kernel_supports(const PackedWeightsView& weights);
// Rows [row_begin, row_end) of y on the AMX kernel; rows past the range's last whole block of 16 run on the VNNI
// kernel from `x`. `emulated` computes the tile products with scalar code instead (a CPU without AMX but with
// AVX-512 VNNI + VBMI: the tests check the kernel's layout and scaling with it).
void nm_gemm_amx(const PackedWeightsView& weights, const QuantizedActivations& x, const TokenTiles& tiles,
                 int64_t row_begin, int64_t row_end, float* y, bool emulated = false);
// The same with bf16 activations on bf16 tiles (rows past the last block of 16 on the AVX-512 BF16 kernel); `emulated`
// as above, on CPUs with AVX-512 BF16.
bool amx_bf16_kernel_supports(const PackedWeightsView& weights);
void nm_gemm_amx_bf16(const PackedWeightsView& weights, const Bf16Activations& x, const Bf16TokenTiles& tiles,
                      int64_t row_begin, int64_t row_end, float* y, bool emulated = false);

// What a caller of nm_gemm keeps across calls so that repeated products allocate nothing.
struct NmGemmScratch {
  QuantizedActivations activations;
  TokenTiles token_tiles;
  Bf16TokenTiles bf16_token_tiles;
  Bf16Activations bf16_activations;
  Fp32Activations fp32_activations;
};

// y [batch, rows] = x [batch, K] W^T over every row: isa_for's kernel, int8 activations quantized once per call for a
// SIMD kernel, rows split into blocks over up to `threads` workers of the calling TBB arena (blocks long enough to
// amortize each row's decode setup). Returns the instruction set that ran.
Isa nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
            NmGemmScratch& scratch);

// Whether this CPU runs the bf16 kernel (AVX-512 BF16 beside the int8 kernel's VNNI + VBMI) on this format.
bool bf16_kernel_supports(const PackedWeightsView& weights);
// Rows [row_begin, row_end) of y from bf16 activations; bf16_kernel_supports must hold.
void nm_gemm_bf16(const PackedWeightsView& weights, const Bf16Activations& x, int64_t row_begin, int64_t row_end,
                  float* y);
// The fp32 kernel this CPU runs on this format: Avx512Vnni (the AVX-512 fp32 kernel, with the int8 kernel's VNNI +
// VBMI decode: dense, or 64 slots per 128 columns: 2:4, 4:8), Avx2 (gathers: every format the AVX2 int8 kernel
// takes), or Reference when neither runs here.
Isa fp32_kernel_isa(const PackedWeightsView& weights);
// Rows [row_begin, row_end) of y from fp32 activations on `isa`'s fp32 kernel (Avx512Vnni or Avx2, available here and
// taking the format), or on fp32_kernel_isa's when `isa` is Reference.
void nm_gemm_fp32(const PackedWeightsView& weights, const Fp32Activations& x, int64_t row_begin, int64_t row_end,
                  float* y, Isa isa = Isa::Reference);

// What one nm_gemm call ran: the instruction set, and the activations' precision (Bf16 only where asked for and
// the bf16 kernel runs the format; otherwise the int8 kernels or the fp32 reference).
struct NmGemmPath {
  Isa isa = Isa::Reference;
  ActivationPrecision activations = ActivationPrecision::Int8;
  bool amx = false;  // on AMX tiles (from amx_int8_batch / kAmxBatch tokens): int8 with int8 activations, else bf16
  // "amx-int8", "amx-bf16", "avx512-bf16" (either bf16 precision), "avx512-fp32" / "avx2-fp32", else isa_name(isa).
  std::string kernel() const;
  // "bf16", "bf16 pair (high + low)", "int8 per 128 columns" or "fp32" (the fp32 kernel or the reference).
  std::string activation_text() const;
  // How the kernel walks a batch of `batch` tokens (the AVX-512 kernels switch at kRowBlockBatch).
  std::string tiling(int64_t batch) const;
};

// From this batch on the AVX-512 kernels decode blocks of 4 rows once into L1 and reuse each token's activation
// chunk for the 4 rows (below it, a row's chunk is decoded into registers and used by a tile of up to 8 tokens).
inline constexpr int64_t kRowBlockBatch = 8;
// The path nm_gemm takes for `weights` when asked for `precision` at `batch` tokens (amx only from amx_int8_batch /
// kAmxBatch tokens; the batch-less form leaves it off).
NmGemmPath nm_gemm_path(const PackedWeightsView& weights, ActivationPrecision precision);
NmGemmPath nm_gemm_path(const PackedWeightsView& weights, ActivationPrecision precision, int64_t batch);
// nm_gemm with a choice of activation precision: bf16 where the bf16 kernel runs the format, fp32 where the fp32
// kernel does (else the bf16 pair where the bf16 kernel runs the format, else the AVX2 fp32 kernel, else the
// reference: fp32 is never answered with int8), otherwise as nm_gemm.
NmGemmPath nm_gemm(const PackedWeightsView& weights, const float* x, int64_t batch, float* y, int threads,
                   NmGemmScratch& scratch, ActivationPrecision precision);

// Whether a SIMD kernel of `isa` has a path for this format (else the caller uses the reference).
bool simd_supports(Isa isa, const PackedWeightsView& weights);
// Rows [row_begin, row_end) of y from int8 activations; `isa` must be Avx2 or Avx512Vnni and supported.
void nm_gemm_simd(Isa isa, const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin,
                  int64_t row_end, float* y);

}  // namespace nmscope::kernels
