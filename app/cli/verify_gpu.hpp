#pragma once
// nmscope-cli verify --engine gpu: every gpu/ variant against the double-precision product of the same quantized
// weights, on random shapes with tails over all patterns and bit widths. Kept apart from the other engines'
// verification so each engine's checks live in their own file.
#include <cstdint>
#include <ostream>

namespace nmscope::cli {

// Relative Frobenius error every GPU variant must stay under (fp16 operands and fp32 accumulation; the baselines
// also round their output to fp16): docs/gpu-kernels.md, "Accuracy".
inline constexpr double kGpuRelativeErrorLimit = 2e-3;

// Runs `configs` random configurations drawn from `seed`; one line per (configuration, variant) on `out`.
// Returns 0 when every run passed, 1 on any mismatch or failed run, or when no GPU variant can run here.
int verify_gpu(int configs, uint64_t seed, std::ostream& out);

}  // namespace nmscope::cli
