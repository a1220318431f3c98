// Decides once, from CPUID, which SIMD kernel this machine runs, and routes calls to it.
#include <stdexcept>

#include "nm_gemm_isa.hpp"
#include "nmscope/kernels/nm_gemm.hpp"

namespace nmscope::kernels {

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::Reference: return "reference";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512Vnni: return "avx512-vnni-vbmi";
  }
  return "unknown";
}

bool isa_available(Isa isa) {
  switch (isa) {
    case Isa::Reference: return true;
    // F16C (the kernels' scale conversion) is not a feature name every compiler's builtin knows; every CPU with AVX2
    // has it (it came two generations earlier), so AVX2 implies it.
    case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512vbmi");
  }
  return false;
}

Isa best_isa() {
  static const Isa best = isa_available(Isa::Avx512Vnni) ? Isa::Avx512Vnni
                          : isa_available(Isa::Avx2)     ? Isa::Avx2
                                                         : Isa::Reference;
  return best;
}

bool simd_supports(Isa isa, const PackedWeightsView& weights) {
  if (!isa_available(isa)) return false;
  if (isa == Isa::Avx512Vnni) return avx512::supports(weights);
  if (isa == Isa::Avx2) return avx2::supports(weights);
  return false;
}

bool bf16_kernel_supports(const PackedWeightsView& weights) {
  static const bool available = isa_available(Isa::Avx512Vnni) && __builtin_cpu_supports("avx512bf16");
  return available && avx512_bf16::supports(weights);
}

void nm_gemm_bf16(const PackedWeightsView& weights, const Bf16Activations& x, int64_t row_begin, int64_t row_end,
                  float* y) {
  if (!bf16_kernel_supports(weights)) throw std::invalid_argument("nm_gemm_bf16: no bf16 kernel for this format here");
  avx512_bf16::gemm(weights, x, row_begin, row_end, y);
}

Isa fp32_kernel_isa(const PackedWeightsView& weights) {
  if (isa_available(Isa::Avx512Vnni) && avx512_fp32::supports(weights)) return Isa::Avx512Vnni;
  if (isa_available(Isa::Avx2) && avx2_fp32::supports(weights)) return Isa::Avx2;
  return Isa::Reference;
}

void nm_gemm_fp32(const PackedWeightsView& weights, const Fp32Activations& x, int64_t row_begin, int64_t row_end,
                  float* y, Isa isa) {
  if (isa == Isa::Reference) isa = fp32_kernel_isa(weights);
  if (isa == Isa::Avx512Vnni && isa_available(isa) && avx512_fp32::supports(weights))
    avx512_fp32::gemm(weights, x, row_begin, row_end, y);
  else if (isa == Isa::Avx2 && isa_available(isa) && avx2_fp32::supports(weights))
    avx2_fp32::gemm(weights, x, row_begin, row_end, y);
  else
    throw std::invalid_argument("nm_gemm_fp32: no fp32 kernel on " + isa_name(isa) + " for this format here");
}

bool amx_kernel_supports(const PackedWeightsView& weights) {
  return isa_available(Isa::Avx512Vnni) && amx::available() && amx::supports(weights);
}

void arrange_token_tiles(const QuantizedActivations& x, TokenTiles& out) {
  if (!isa_available(Isa::Avx512Vnni))
    throw std::invalid_argument("arrange_token_tiles: needs AVX-512 (the AMX kernel)");
  amx::arrange(x, out);
}

void arrange_bf16_token_tiles(const Bf16Activations& x, Bf16TokenTiles& out) {
  if (!isa_available(Isa::Avx512Vnni)) throw std::invalid_argument("arrange_bf16_token_tiles: needs AVX-512");
  amx::arrange_bf16(x, out);
}

bool amx_bf16_kernel_supports(const PackedWeightsView& weights) {
  return bf16_kernel_supports(weights) && amx::bf16_available();
}

void nm_gemm_amx_bf16(const PackedWeightsView& weights, const Bf16Activations& x, const Bf16TokenTiles& tiles,
                      int64_t row_begin, int64_t row_end, float* y, bool emulated) {
  if (!bf16_kernel_supports(weights) || (!emulated && !amx::bf16_available()))
    throw std::invalid_argument("nm_gemm_amx_bf16: no AMX bf16 kernel for this format here");
  amx::gemm_bf16(weights, x, tiles, row_begin, row_end, y, emulated);
}

void nm_gemm_amx(const PackedWeightsView& weights, const QuantizedActivations& x, const TokenTiles& tiles,
                 int64_t row_begin, int64_t row_end, float* y, bool emulated) {
  if (!isa_available(Isa::Avx512Vnni) || !amx::supports(weights) || (!emulated && !amx::available()))
    throw std::invalid_argument("nm_gemm_amx: no AMX kernel for this format here");
  amx::gemm(weights, x, tiles, row_begin, row_end, y, emulated);
}

void nm_gemm_simd(Isa isa, const PackedWeightsView& weights, const QuantizedActivations& x, int64_t row_begin,
                  int64_t row_end, float* y) {
  if (!simd_supports(isa, weights)) throw std::invalid_argument("nm_gemm_simd: " + isa_name(isa) + " has no path for this format");
  if (isa == Isa::Avx512Vnni) avx512::gemm(weights, x, row_begin, row_end, y);
  else avx2::gemm(weights, x, row_begin, row_end, y);
}

}  // namespace nmscope::kernels
