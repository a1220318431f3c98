#pragma once
// The per-ISA kernels behind the dispatcher (one namespace per file, each file compiled with its own flags).
#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels::avx512 {
bool supports(const PackedWeightsView& weights);
// quantize_activations' per-block work on `out` already sized and filled with 128 / scale 0.
void quantize_blocks(const float* x, int64_t batch, int64_t cols, QuantizedActivations& out);
void gemm(const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin, int64_t row_end, float* y);
}  // namespace nmscope::kernels::avx512

namespace nmscope::kernels::avx2 {
bool supports(const PackedWeightsView& weights);
void gemm(const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin, int64_t row_end, float* y);
}  // namespace nmscope::kernels::avx2

namespace nmscope::kernels::avx512_bf16 {
bool supports(const PackedWeightsView& weights);
void gemm(const PackedWeightsView& weights, const Bf16Activations& x, int64_t row_begin, int64_t row_end, float* y);
}  // namespace nmscope::kernels::avx512_bf16

namespace nmscope::kernels::avx512_fp32 {
bool supports(const PackedWeightsView& weights);
void gemm(const PackedWeightsView& weights, const Fp32Activations& x, int64_t row_begin, int64_t row_end, float* y);
}  // namespace nmscope::kernels::avx512_fp32

namespace nmscope::kernels::avx2_fp32 {
bool supports(const PackedWeightsView& weights);
void gemm(const PackedWeightsView& weights, const Fp32Activations& x, int64_t row_begin, int64_t row_end, float* y);
}  // namespace nmscope::kernels::avx2_fp32

namespace nmscope::kernels::amx {
// Whether the CPU has AMX-INT8 and the OS granted this process the tile state (and NMSCOPE_CPU_NO_AMX is unset).
bool available();
// And AMX-BF16 with AVX512-BF16 (the bf16 tiles).
bool bf16_available();
bool supports(const PackedWeightsView& weights);
void arrange(const QuantizedActivations& x, TokenTiles& out);
void arrange_bf16(const Bf16Activations& x, Bf16TokenTiles& out);
void gemm_bf16(const PackedWeightsView& weights, const Bf16Activations& source, const Bf16TokenTiles& x,
               int64_t row_begin, int64_t row_end, float* y, bool emulated);
void gemm(const PackedWeightsView& weights, const QuantizedActivations& quantized, const TokenTiles& x,
          int64_t row_begin, int64_t row_end, float* y, bool emulated);
}  // namespace nmscope::kernels::amx
