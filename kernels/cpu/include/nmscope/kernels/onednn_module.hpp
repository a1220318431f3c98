#pragma once
// The oneDNN baseline module (libnmscope_onednn.so, kernels/cpu/onednn_matmul.cpp): a dense bf16 matmul through
// Debian's oneDNN, behind a plain C interface so that core loads it with dlopen on first use.
//
// Why a module: Debian's oneDNN threads with OpenMP, and libgomp reads OMP_WAIT_POLICY once, when it is loaded. Its
// default lets idle threads spin for milliseconds after every product; in a process that also runs our TBB kernels
// (timed in alternating rounds with the baselines) those spinning threads took the cores from them (measured on the
// 2-vCPU machine: cpu/int4-2:4 at 4096x4096, batch 1, 547 us with a passive policy, 690-840 us spinning). Loading
// oneDNN only after the process has asked for a passive policy keeps every engine's timing honest.
#include <cstddef>
#include <cstdint>

extern "C" {

// Bump when a signature below changes: core refuses a module of another version.
inline constexpr int kOneDnnModuleVersion = 2;

struct nmscope_onednn_matmul;

// The interface, as function pointer types (core looks each up by name with dlsym).
using nmscope_onednn_version_fn = int (*)();
// y [batch, out] = x [batch, in] W^T with W [out, in] row-major fp32, rounded to bf16 and reordered into oneDNN's
// preferred layout (one copy). nullptr on failure, with the reason in `error`.
using nmscope_onednn_create_fn = nmscope_onednn_matmul* (*)(int64_t batch, int64_t in, int64_t out,
                                                            const float* weights, char* error, std::size_t error_size);
// One more copy of the reordered weights (the timed calls rotate through them); false on failure (out of memory).
using nmscope_onednn_add_copy_fn = bool (*)(nmscope_onednn_matmul* matmul);
// x [batch, in] fp32 -> bf16, then the product with copy `copy` into y [batch, out] fp32, on `threads` threads.
// false when oneDNN failed, with the reason in `error`.
using nmscope_onednn_run_fn = bool (*)(nmscope_onednn_matmul* matmul, const float* x, float* y, int copy, int threads,
                                       char* error, std::size_t error_size);
using nmscope_onednn_weight_bytes_fn = int64_t (*)(const nmscope_onednn_matmul* matmul);
// oneDNN's own name of the implementation it chose (e.g. "brg:avx512_core_bf16") and the ISA it runs.
using nmscope_onednn_implementation_fn = const char* (*)(const nmscope_onednn_matmul* matmul);
using nmscope_onednn_isa_fn = const char* (*)();
using nmscope_onednn_destroy_fn = void (*)(nmscope_onednn_matmul* matmul);
}
