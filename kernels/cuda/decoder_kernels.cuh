#pragma once
// The decoder step's kernels other than the linear layers (docs/gpu-kernels.md, "Decoder step"). Every kernel first
// waits for the one before it (programmatic dependent launch; a no-op on a plain launch) and then lets the next one
// be scheduled, so a step of ~330 kernels in one graph leaves no launch gap between them.
// Shapes: B = batch, H = hidden, D = head_dim, NH / NKV = query / key-value heads, T = context + 1 (the new token is
// at position `position` = context), I = intermediate. Linear outputs are fp32 (cuBLASLt, own kernels) or fp16
// (cuSPARSELt): consumers are templated on that type `In`.
#include <cuda_fp16.h>

#include <cstdint>

#include "common/ptx.cuh"
#include "nmscope/kernels/cuda/decoder_synthetic.hpp"

namespace nmscope::kernels::cuda::decoder {

inline constexpr int kNormThreads = 256;
inline constexpr int kAttentionThreads = 128;
inline constexpr int kMaxSplitTokens = 1024;  // scores of one split held in shared memory

__device__ __forceinline__ float as_float(float value) { return value; }
__device__ __forceinline__ float as_float(__half value) { return __half2float(value); }

// Sum over the CTA (kNormThreads threads); every thread gets the total.
__device__ __forceinline__ float block_sum(float value, float* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  float total = 0;
  for (int w = 0; w < int(blockDim.x >> 5); ++w) total += scratch[w];
  return total;
}

// x[b] = h[b] / rms(h[b]) * gain, fp16: the input of the next linear layer. One CTA per sequence.
__device__ __forceinline__ void rms_normalize(const float* h, const __half* gain, __half* x, int64_t hidden,
                                              float epsilon, float* scratch) {
  float squares = 0;
  for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) squares += h[i] * h[i];
  const float inverse_rms = rsqrtf(block_sum(squares, scratch) / float(hidden) + epsilon);
  for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) x[i] = __float2half(h[i] * inverse_rms * __half2float(gain[i]));
}

// Step start: h[b] = embedding[token(b)] (fp16 table, fp32 residual stream), x[b] = RMSNorm(h[b]) with norm 0's gain.
__global__ void __launch_bounds__(kNormThreads) embed_norm_kernel(const __half* embedding, const __half* gain,
                                                                  float* h, __half* x, int64_t hidden, int64_t vocab,
                                                                  uint64_t seed, float epsilon) {
  __shared__ float scratch[32];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t b = blockIdx.x;
  const __half* row = embedding + synthetic::token(seed, b, vocab) * hidden;
  for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) h[b * hidden + i] = __half2float(row[i]);
  __syncthreads();
  rms_normalize(h + b * hidden, gain, x + b * hidden, hidden, epsilon, scratch);
}

// h[b] += y[b] (a linear layer's output, row stride y_ld), then x[b] = RMSNorm(h[b]) * gain.
template <typename In>
__global__ void __launch_bounds__(kNormThreads) residual_norm_kernel(const In* y, int64_t y_ld, float* h,
                                                                     const __half* gain, __half* x, int64_t hidden,
                                                                     float epsilon) {
  __shared__ float scratch[32];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t b = blockIdx.x;
  float* row = h + b * hidden;
  for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) row[i] += as_float(y[b * y_ld + i]);
  __syncthreads();
  rms_normalize(row, gain, x + b * hidden, hidden, epsilon, scratch);
}

// RoPE (rotate-half pairs (i, i + D/2), angle position * theta^(-2i/D)) on the new token's q and k; k and v appended
// to the block's cache at `position`. Grid (NH + NKV, B), D/2 threads: head j < NH is a query head, else a key/value
// head. q_out fp32 [B][NH][D]; caches fp16 [B][NKV][capacity][D].
template <typename In>
__global__ void rope_append_kernel(const In* qkv, int64_t qkv_ld, float* q_out, __half* key_cache, __half* value_cache,
                                   int64_t heads, int64_t kv_heads, int head_dim, int64_t capacity, int64_t position,
                                   float rope_theta) {
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t head = blockIdx.x, b = blockIdx.y;
  const int i = threadIdx.x, half_dim = head_dim / 2;
  const In* row = qkv + b * qkv_ld + head * head_dim;
  const float angle = float(position) * powf(rope_theta, -2.0f * float(i) / float(head_dim));
  float sine, cosine;
  sincosf(angle, &sine, &cosine);
  const float first = as_float(row[i]), second = as_float(row[i + half_dim]);
  const float rotated_first = first * cosine - second * sine, rotated_second = second * cosine + first * sine;
  if (head < heads) {
    float* q = q_out + (b * heads + head) * head_dim;
    q[i] = rotated_first;
    q[i + half_dim] = rotated_second;
    return;
  }
  const int64_t kv_head = head - heads;
  const int64_t slot = ((b * kv_heads + kv_head) * capacity + position) * head_dim;
  key_cache[slot + i] = __float2half(rotated_first);
  key_cache[slot + i + half_dim] = __float2half(rotated_second);
  const In* value = row + kv_heads * head_dim;  // v rows follow the k rows of the same kv head count
  value_cache[slot + i] = __float2half(as_float(value[i]));
  value_cache[slot + i + half_dim] = __float2half(as_float(value[i + half_dim]));
}

// Attention of the new token over tokens [split * split_tokens, ...) of the cache (flash-decoding: the context is
// split so that batch 1 still fills the GPU). Grid (splits, NH, B), kAttentionThreads threads. Writes the split's
// unnormalized output sum_t p_t v_t with p_t = exp(s_t - m), and (m, sum_t p_t), for attention_combine_kernel.
// Scores: kLanes = D / 8 lanes per key row (one 16-byte load each), 32 / kLanes rows per warp at a time.
template <int kHeadDim>
__global__ void __launch_bounds__(kAttentionThreads) attention_split_kernel(
    const float* q, const __half* key_cache, const __half* value_cache, float* partial_output, float2* partial_stats,
    int64_t heads, int64_t kv_heads, int64_t capacity, int64_t tokens, int split_tokens, float scale) {
  static_assert(kHeadDim % 8 == 0 && 32 % (kHeadDim / 8) == 0 && kHeadDim <= 256, "head_dim 64, 128 or 256");
  constexpr int kLanes = kHeadDim / 8;
  constexpr int kRowsPerWarp = 32 / kLanes;
  constexpr int kWarps = kAttentionThreads / 32;
  constexpr int kRowsAtOnce = kAttentionThreads / kLanes;
  __shared__ float q_shared[kHeadDim];
  __shared__ float scores[kMaxSplitTokens];
  __shared__ float sums[kRowsAtOnce][kHeadDim];
  __shared__ float scratch[32];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int split = blockIdx.x, splits = gridDim.x;
  const int64_t head = blockIdx.y, b = blockIdx.z;
  const int64_t kv_head = head / (heads / kv_heads);
  const int64_t begin = int64_t(split) * split_tokens, end = min(tokens, begin + split_tokens);
  const int count = int(end - begin);
  const int thread = threadIdx.x, lane = thread & 31, warp = thread >> 5;
  const size_t cache_offset = size_t((b * kv_heads + kv_head) * capacity) * kHeadDim;
  const __half* keys = key_cache + cache_offset;
  const __half* values = value_cache + cache_offset;
  for (int d = thread; d < kHeadDim; d += kAttentionThreads) q_shared[d] = q[(b * heads + head) * kHeadDim + d] * scale;
  __syncthreads();

  const int row_in_warp = lane / kLanes, part = lane % kLanes;
  float q_part[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) q_part[e] = q_shared[part * 8 + e];
  for (int first = warp * kRowsPerWarp; first < count; first += kWarps * kRowsPerWarp) {
    const int t = first + row_in_warp;
    float dot = 0;
    if (t < count) {
      const uint4 packed = *reinterpret_cast<const uint4*>(keys + (begin + t) * kHeadDim + part * 8);
      const __half2* pairs = reinterpret_cast<const __half2*>(&packed);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float2 k = __half22float2(pairs[e]);
        dot += q_part[2 * e] * k.x + q_part[2 * e + 1] * k.y;
      }
    }
#pragma unroll
    for (int offset = kLanes / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
    if (t < count && part == 0) scores[t] = dot;
  }
  __syncthreads();

  float local_max = -INFINITY;
  for (int t = thread; t < count; t += kAttentionThreads) local_max = fmaxf(local_max, scores[t]);
  for (int offset = 16; offset > 0; offset >>= 1) local_max = fmaxf(local_max, __shfl_xor_sync(0xffffffffu, local_max, offset));
  if (lane == 0) scratch[warp] = local_max;
  __syncthreads();
  float maximum = scratch[0];
  for (int w = 1; w < kWarps; ++w) maximum = fmaxf(maximum, scratch[w]);
  __syncthreads();
  float local_sum = 0;
  for (int t = thread; t < count; t += kAttentionThreads) {
    const float p = __expf(scores[t] - maximum);
    scores[t] = p;
    local_sum += p;
  }
  for (int offset = 16; offset > 0; offset >>= 1) local_sum += __shfl_xor_sync(0xffffffffu, local_sum, offset);
  if (lane == 0) scratch[8 + warp] = local_sum;
  __syncthreads();

  // Values: kLanes threads per row (8 columns each), kRowsAtOnce rows at a time, then a sum over those rows.
  const int row = thread / kLanes;
  float accumulator[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int t = row; t < count; t += kRowsAtOnce) {
    const uint4 packed = *reinterpret_cast<const uint4*>(values + (begin + t) * kHeadDim + part * 8);
    const __half2* pairs = reinterpret_cast<const __half2*>(&packed);
    const float p = scores[t];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float2 v = __half22float2(pairs[e]);
      accumulator[2 * e] += p * v.x;
      accumulator[2 * e + 1] += p * v.y;
    }
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) sums[row][part * 8 + e] = accumulator[e];
  __syncthreads();
  const size_t slot = size_t((b * heads + head) * splits + split);
  for (int d = thread; d < kHeadDim; d += kAttentionThreads) {
    float total = 0;
    for (int r = 0; r < kRowsAtOnce; ++r) total += sums[r][d];
    partial_output[slot * kHeadDim + d] = total;
  }
  if (thread == 0) {
    float sum = 0;
    for (int w = 0; w < kWarps; ++w) sum += scratch[8 + w];
    partial_stats[slot] = make_float2(maximum, sum);
  }
}

// Joins the splits of attention_split_kernel: out = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s, fp16 into
// attention_out [B][H] (head-major columns). Grid (NH, B), D threads.
__global__ void attention_combine_kernel(const float* partial_output, const float2* partial_stats, __half* attention_out,
                                         int64_t heads, int splits, int head_dim) {
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t head = blockIdx.x, b = blockIdx.y;
  const int d = threadIdx.x;
  const size_t first = size_t((b * heads + head) * splits);
  float maximum = -INFINITY;
  for (int s = 0; s < splits; ++s) maximum = fmaxf(maximum, partial_stats[first + s].x);
  float numerator = 0, denominator = 0;
  for (int s = 0; s < splits; ++s) {
    const float2 stats = partial_stats[first + s];
    const float weight = __expf(stats.x - maximum);
    numerator += weight * partial_output[(first + s) * head_dim + d];
    denominator += weight * stats.y;
  }
  attention_out[(b * heads + head) * head_dim + d] = __float2half(numerator / denominator);
}

// SwiGLU: act[b][i] = silu(gate) * up, gate = y[b][i], up = y[b][I + i] (fused gate/up output), fp16.
template <typename In>
__global__ void swiglu_kernel(const In* gate_up, __half* act, int64_t batch, int64_t intermediate) {
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t total = batch * intermediate;
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = index / intermediate, i = index % intermediate;
    const float gate = as_float(gate_up[b * 2 * intermediate + i]);
    const float up = as_float(gate_up[b * 2 * intermediate + intermediate + i]);
    act[index] = __float2half(gate / (1.0f + __expf(-gate)) * up);
  }
}

// Buffers filled from decoder_synthetic.hpp (set-up, outside the timed step).
__global__ void fill_embedding_kernel(__half* table, int64_t count, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    table[i] = __float2half(synthetic::embedding(seed, uint64_t(i)));
}
__global__ void fill_gains_kernel(__half* gains, int64_t norms, int64_t hidden, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < norms * hidden;
       i += int64_t(gridDim.x) * blockDim.x)
    gains[i] = __float2half(synthetic::norm_gain(seed, uint64_t(i / hidden), uint64_t(i % hidden)));
}
__global__ void fill_cache_kernel(__half* keys, __half* values, int64_t count, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    keys[i] = __float2half(synthetic::cached_key(seed, uint64_t(i)));
    values[i] = __float2half(synthetic::cached_value(seed, uint64_t(i)));
  }
}
// fp32 or fp16 logits [batch][ld] -> fp32 [batch][vocab] (for the checked step's download).
template <typename In>
__global__ void gather_logits_kernel(const In* logits, int64_t ld, float* out, int64_t batch, int64_t vocab) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < batch * vocab;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = as_float(logits[(i / vocab) * ld + i % vocab]);
}

}  // namespace nmscope::kernels::cuda::decoder
