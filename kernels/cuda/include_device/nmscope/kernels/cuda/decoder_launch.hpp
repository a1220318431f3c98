#pragma once
// The decoder step's kernels other than the linear layers (decoder_kernels.cuh), as host functions: grid, block and
// launch attributes chosen here, so the step's orchestration (decoder_step.cpp) launches no kernel itself and needs
// no device compiler for it. Launches with `overlap` use programmatic dependent launch (the kernel waits for the one
// before it, docs/gpu-kernels.md "Decoder step") and throw GpuFailure when the launch is refused; the fills and the
// gather are plain launches whose errors the caller checks with cudaGetLastError. `In`: float or __half, the type
// the linear layers write.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace nmscope::kernels::cuda::decoder {

inline constexpr int kMaxSplitTokens = 1024;  // attention scores of one split held in shared memory

// Gathers each sequence's token embedding (fp16 table, or 4-bit codes + fp16 scales) into h and its RMSNorm into x.
// The step's first kernel: launched without programmatic dependent launch.
void launch_embed_norm(cudaStream_t stream, const __half* table, const uint8_t* codes, const __half* scales,
                       const int64_t* tokens, const __half* gain, float* h, __half* x, int64_t x_ld, int64_t batch,
                       int64_t hidden, float epsilon);

// h += y; x = RMSNorm(h) * gain.
template <typename In>
void launch_residual_norm(cudaStream_t stream, bool overlap, const In* y, int64_t y_ld, float* h, const __half* gain,
                          __half* x, int64_t x_ld, int64_t batch, int64_t hidden, float epsilon);

// Attention of the new token over one block's KV cache (RoPE, cache append and the split-K merge folded in).
template <typename In>
struct AttentionArgs {
  const In* qkv = nullptr;
  int64_t qkv_ld = 0;
  const float* qkv_bias = nullptr;  // [qkv_rows] or null
  __half* key_cache = nullptr;      // fp16 cache, or
  __half* value_cache = nullptr;
  int8_t* key_codes = nullptr;    // an int8 cache (docs/gpu-kernels.md, "int8 KV cache"): codes [rows][head_dim] and
  int8_t* value_codes = nullptr;  // one scale per row (rows: batch x kv_heads x capacity, as the fp16 cache's)
  float* key_scales = nullptr;
  float* value_scales = nullptr;
  float* partial_output = nullptr;
  float2* partial_stats = nullptr;
  unsigned* arrivals = nullptr;
  __half* out = nullptr;
  int64_t out_ld = 0, heads = 0, kv_heads = 0, head_dim = 0, capacity = 0, position = 0, first_position = 0;
  int64_t batch = 0;
  int splits = 1, split_tokens = 0;
  float scale = 1.0f;
  const float* inverse_frequencies = nullptr;
};
// head_dim 16, 32, 64 or 128 (others run as 128, as DecoderShape::unsupported_reason allows no other).
template <typename In>
void launch_attention(cudaStream_t stream, bool overlap, const AttentionArgs<In>& args);

// act = silu(gate) * up over the fused gate/up output.
template <typename In>
void launch_swiglu(cudaStream_t stream, bool overlap, const In* gate_up, __half* act, int64_t act_ld, int64_t batch,
                   int64_t intermediate);

// Synthetic contents (decoder_synthetic.hpp) on the default stream.
void fill_embedding(__half* table, int64_t count, uint64_t seed);
void fill_gains(__half* gains, int64_t norms, int64_t hidden, uint64_t seed);
void fill_cache(__half* keys, __half* values, int64_t count, uint64_t seed);
// The same contents quantized to an int8 cache, row by row (rows of head_dim values).
void fill_int8_cache(int8_t* key_codes, int8_t* value_codes, float* key_scales, float* value_scales, int64_t rows,
                     int head_dim, uint64_t seed);

// out [batch, vocab] fp32 from the head's output rows of stride ld.
template <typename In>
void gather_logits(cudaStream_t stream, const In* logits, int64_t ld, float* out, int64_t batch, int64_t vocab);

}  // namespace nmscope::kernels::cuda::decoder
