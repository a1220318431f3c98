#pragma once
// The per-ISA kernels behind the dispatcher (one namespace per file, each file compiled with its own flags).
#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels::avx512 {
bool supports(const PackedWeightsView& weights);
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
