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
#include "nmscope/kernels/cuda/decoder_launch.hpp"  // kMaxSplitTokens
#include "nmscope/kernels/cuda/decoder_synthetic.hpp"

namespace nmscope::kernels::cuda::decoder {

inline constexpr int kNormThreads = 512;
inline constexpr int kAttentionThreads = 128;

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

// The norms hold a row in registers: kNormThreads threads x 8 consecutive elements x kNormPasses, so that every load
// of a row is issued before the first is used (one memory round trip instead of one per element).
inline constexpr int kNormPasses = 4;  // hidden <= 512 x 8 x 4 = 16384 (DecoderShape::unsupported_reason)

struct Eight {
  float v[8];
};
__device__ __forceinline__ Eight load_eight(const float* p) {
  const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  return {{a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}};
}
__device__ __forceinline__ Eight load_eight(const __half* p) {
  const uint4 packed = *reinterpret_cast<const uint4*>(p);
  const __half2* pairs = reinterpret_cast<const __half2*>(&packed);
  Eight out;
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    const float2 pair = __half22float2(pairs[e]);
    out.v[2 * e] = pair.x;
    out.v[2 * e + 1] = pair.y;
  }
  return out;
}
__device__ __forceinline__ void store_eight(float* p, const Eight& values) {
  *reinterpret_cast<float4*>(p) = make_float4(values.v[0], values.v[1], values.v[2], values.v[3]);
  *reinterpret_cast<float4*>(p + 4) = make_float4(values.v[4], values.v[5], values.v[6], values.v[7]);
}

// x = row / rms(row) * gain, fp16, for the row held in registers (`row[pass]` covers elements
// 8 (pass * blockDim + thread) ...); returns after x is written.
__device__ __forceinline__ void rms_normalize(const Eight (&row)[kNormPasses], const __half* gain, __half* x,
                                              int64_t hidden, float epsilon, float* scratch) {
  float squares = 0;
#pragma unroll
  for (int pass = 0; pass < kNormPasses; ++pass) {
    const int64_t first = 8 * (int64_t(pass) * blockDim.x + threadIdx.x);
    if (first < hidden)
#pragma unroll
      for (int e = 0; e < 8; ++e) squares += row[pass].v[e] * row[pass].v[e];
  }
  const float inverse_rms = rsqrtf(block_sum(squares, scratch) / float(hidden) + epsilon);
#pragma unroll
  for (int pass = 0; pass < kNormPasses; ++pass) {
    const int64_t first = 8 * (int64_t(pass) * blockDim.x + threadIdx.x);
    if (first >= hidden) continue;
    const Eight gains = load_eight(gain + first);
    uint4 packed;
    __half2* pairs = reinterpret_cast<__half2*>(&packed);
#pragma unroll
    for (int e = 0; e < 4; ++e)
      pairs[e] = __floats2half2_rn(row[pass].v[2 * e] * inverse_rms * gains.v[2 * e],
                                   row[pass].v[2 * e + 1] * inverse_rms * gains.v[2 * e + 1]);
    *reinterpret_cast<uint4*>(x + first) = packed;
  }
}

// Eight consecutive columns of an embedding row: fp16, or 4-bit codes with one fp16 scale per 128 columns
// (docs/packed-format.md, "Token-embedding tables": column 2i in the low nibble of byte i, w = (c - 8) * scale),
// each decoded value rounded to fp16 once, as the linear layers' weights are.
__device__ __forceinline__ Eight load_embedding_eight(const __half* table, const uint8_t* codes, const __half* scales,
                                                      int64_t token, int64_t hidden, int64_t first) {
  if (table) return load_eight(table + token * hidden + first);
  const uint32_t word = *reinterpret_cast<const uint32_t*>(codes + token * (hidden / 2) + first / 2);
  const float scale = __half2float(scales[token * ((hidden + 127) / 128) + first / 128]);
  Eight out;
#pragma unroll
  for (int e = 0; e < 8; ++e)
    out.v[e] = __half2float(__float2half_rn(float(int((word >> (4 * e)) & 0xFu) - 8) * scale));
  return out;
}

// Step start: h[b] = embedding[tokens[b]] (fp16 table, or codes + scales when `table` is null; fp32 residual
// stream), x[b] = RMSNorm(h[b]) with norm 0's gain (x rows x_ld apart).
__global__ void __launch_bounds__(kNormThreads)
    embed_norm_kernel(const __half* table, const uint8_t* codes, const __half* scales, const int64_t* tokens,
                      const __half* gain, float* h, __half* x, int64_t x_ld, int64_t hidden, float epsilon) {
  __shared__ float scratch[32];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t b = blockIdx.x;
  const int64_t token = tokens[b];
  Eight row[kNormPasses];
#pragma unroll
  for (int pass = 0; pass < kNormPasses; ++pass) {
    const int64_t first = 8 * (int64_t(pass) * blockDim.x + threadIdx.x);
    if (first >= hidden) continue;
    row[pass] = load_embedding_eight(table, codes, scales, token, hidden, first);
    store_eight(h + b * hidden + first, row[pass]);
  }
  rms_normalize(row, gain, x + b * x_ld, hidden, epsilon, scratch);
}

// h[b] += y[b] (a linear layer's output, row stride y_ld), then x[b] = RMSNorm(h[b]) * gain (rows x_ld apart).
template <typename In>
__global__ void __launch_bounds__(kNormThreads)
    residual_norm_kernel(const In* y, int64_t y_ld, float* h, const __half* gain, __half* x, int64_t x_ld,
                         int64_t hidden, float epsilon) {
  __shared__ float scratch[32];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t b = blockIdx.x;
  Eight row[kNormPasses], added[kNormPasses];
#pragma unroll
  for (int pass = 0; pass < kNormPasses; ++pass) {
    const int64_t first = 8 * (int64_t(pass) * blockDim.x + threadIdx.x);
    if (first >= hidden) continue;
    row[pass] = load_eight(h + b * hidden + first);
    added[pass] = load_eight(y + b * y_ld + first);
  }
#pragma unroll
  for (int pass = 0; pass < kNormPasses; ++pass) {
    const int64_t first = 8 * (int64_t(pass) * blockDim.x + threadIdx.x);
    if (first >= hidden) continue;
#pragma unroll
    for (int e = 0; e < 8; ++e) row[pass].v[e] += added[pass].v[e];
    store_eight(h + b * hidden + first, row[pass]);
  }
  rms_normalize(row, gain, x + b * x_ld, hidden, epsilon, scratch);
}

// Attention of the new token (flash-decoding: the context split so that batch 1 still fills the GPU), with RoPE and
// the cache append folded in. Grid (splits, NH, B), kAttentionThreads threads; split s covers cache positions
// [first_position + s * split_tokens, ...) of the T = position + 1 tokens (first_position > 0 under a sliding window).
// - q: rotate-half RoPE (pairs (i, i + D/2), angle position * inverse_frequencies[i]) of the query head, from the
//   fused q/k/v output plus its bias (qwen2; null: none), into shared memory.
// - The split holding `position` rotates the new key the same way, rounds key and value to fp16 as the cache holds
//   them, uses them from shared memory, and (the first query head of each key/value group) appends them to the cache
//   at `position`; no CTA of this step reads that slot from memory.
// - Scores: kLanes = D / 8 lanes per key row (one 16-byte load each), 32 / kLanes rows per warp at a time; then
//   p_t = exp(s_t - m) and the split's unnormalized sum_t p_t v_t.
// - Combine: the last split to arrive for (b, head) (a counter per pair, reset after use) joins the splits,
//   out = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s, fp16 into attention_out [B][out_ld] (head-major columns).
// Eight consecutive cache elements of one row: fp16 (16 bytes), or int8 codes (8 bytes, docs/gpu-kernels.md "int8 KV
// cache") whose row scale the caller applies.
template <bool kInt8>
__device__ __forceinline__ uint4 load_eight(const void* cache, int64_t element) {
  if constexpr (kInt8) {
    const uint2 codes = __ldg(reinterpret_cast<const uint2*>(static_cast<const int8_t*>(cache) + element));
    return make_uint4(codes.x, codes.y, 0, 0);
  } else {
    return __ldg(reinterpret_cast<const uint4*>(static_cast<const __half*>(cache) + element));
  }
}
template <bool kInt8>
__device__ __forceinline__ void unpack_eight(const uint4& packed, float* out) {
  if constexpr (kInt8) {
    const char4 low = *reinterpret_cast<const char4*>(&packed.x), high = *reinterpret_cast<const char4*>(&packed.y);
    out[0] = low.x, out[1] = low.y, out[2] = low.z, out[3] = low.w;
    out[4] = high.x, out[5] = high.y, out[6] = high.z, out[7] = high.w;
  } else {
    const __half2* pairs = reinterpret_cast<const __half2*>(&packed);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float2 v = __half22float2(pairs[e]);
      out[2 * e] = v.x, out[2 * e + 1] = v.y;
    }
  }
}

// One cache row of head_dim values as int8: scale = absmax / 127 (0 for a zero row), code = round(v / scale).
__device__ __forceinline__ float int8_row_scale(float absmax) { return absmax / 127.0f; }
__device__ __forceinline__ int8_t int8_code(float value, float scale) {
  return scale > 0 ? int8_t(max(-127, min(127, __float2int_rn(value / scale)))) : int8_t(0);
}

template <int kHeadDim, typename In, bool kInt8>
__global__ void __launch_bounds__(kAttentionThreads)
    attention_kernel(const In* qkv, int64_t qkv_ld, const float* qkv_bias, __half* key_cache, __half* value_cache,
                     int8_t* key_codes, int8_t* value_codes, float* key_scales, float* value_scales,
                     float* partial_output, float2* partial_stats, unsigned* arrivals, __half* attention_out,
                     int64_t out_ld, int64_t heads, int64_t kv_heads, int64_t capacity, int64_t position,
                     int64_t first_position, int split_tokens, float scale, const float* inverse_frequencies) {
  static_assert(kHeadDim % 8 == 0 && 32 % (kHeadDim / 8) == 0 && kHeadDim <= 256, "head_dim 16 ... 256");
  constexpr int kLanes = kHeadDim / 8;
  constexpr int kRowsPerWarp = 32 / kLanes;
  constexpr int kWarps = kAttentionThreads / 32;
  constexpr int kRowsAtOnce = kAttentionThreads / kLanes;
  constexpr int kHalf = kHeadDim / 2;
  constexpr int kUnroll = 8;
  __shared__ float q_shared[kHeadDim];
  __shared__ float key_new[kHeadDim], value_new[kHeadDim];
  __shared__ float scores[kMaxSplitTokens];
  __shared__ float sums[kRowsAtOnce][kHeadDim];
  __shared__ float scratch[32];
  __shared__ bool last_to_arrive;
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int split = blockIdx.x, splits = gridDim.x;
  const int64_t head = blockIdx.y, b = blockIdx.z;
  const int64_t group = heads / kv_heads, kv_head = head / group;
  const int64_t tokens = position + 1;
  const int64_t begin = first_position + int64_t(split) * split_tokens, end = min(tokens, begin + split_tokens);
  const int count = int(end - begin);
  const bool holds_new_token = end == tokens;
  const int thread = threadIdx.x, lane = thread & 31, warp = thread >> 5;
  const size_t row_offset = size_t((b * kv_heads + kv_head) * capacity);  // this head's first cache row
  const size_t cache_offset = row_offset * kHeadDim;
  const void* keys =
      kInt8 ? static_cast<const void*>(key_codes + cache_offset) : static_cast<const void*>(key_cache + cache_offset);
  const void* values = kInt8 ? static_cast<const void*>(value_codes + cache_offset)
                             : static_cast<const void*>(value_cache + cache_offset);
  const float* row_key_scales = kInt8 ? key_scales + row_offset : nullptr;
  const float* row_value_scales = kInt8 ? value_scales + row_offset : nullptr;

  // RoPE of q (and of the new key in the split that holds it).
  const In* row = qkv + b * qkv_ld;
  for (int i = thread; i < kHalf; i += kAttentionThreads) {
    const float angle = float(position) * inverse_frequencies[i];
    float sine, cosine;
    sincosf(angle, &sine, &cosine);
    const int64_t q_at = head * kHeadDim;
    const auto input = [&](int64_t at) { return as_float(row[at]) + (qkv_bias ? qkv_bias[at] : 0.0f); };
    const float q0 = input(q_at + i), q1 = input(q_at + i + kHalf);
    q_shared[i] = (q0 * cosine - q1 * sine) * scale;
    q_shared[i + kHalf] = (q1 * cosine + q0 * sine) * scale;
    if (holds_new_token) {
      const int64_t k_at = (heads + kv_head) * kHeadDim, v_at = (heads + kv_heads + kv_head) * kHeadDim;
      const float k0 = input(k_at + i), k1 = input(k_at + i + kHalf);
      const __half k_first = __float2half(k0 * cosine - k1 * sine), k_second = __float2half(k1 * cosine + k0 * sine);
      const __half v_first = __float2half(input(v_at + i)), v_second = __float2half(input(v_at + i + kHalf));
      key_new[i] = __half2float(k_first);
      key_new[i + kHalf] = __half2float(k_second);
      value_new[i] = __half2float(v_first);
      value_new[i + kHalf] = __half2float(v_second);
      if (!kInt8 && head % group == 0) {
        const size_t slot = cache_offset + size_t(position) * kHeadDim;
        key_cache[slot + i] = k_first;
        key_cache[slot + i + kHalf] = k_second;
        value_cache[slot + i] = v_first;
        value_cache[slot + i + kHalf] = v_second;
      }
    }
  }
  __syncthreads();
  // An int8 cache holds the new key and value as codes and a row scale: the split that holds the new token quantizes
  // them (warp 0), uses the dequantized values itself, as later steps will read them, and appends them.
  if constexpr (kInt8) {
    if (holds_new_token && warp == 0) {
      float key_max = 0, value_max = 0;
      for (int d = lane; d < kHeadDim; d += 32) {
        key_max = fmaxf(key_max, fabsf(key_new[d]));
        value_max = fmaxf(value_max, fabsf(value_new[d]));
      }
      for (int offset = 16; offset > 0; offset >>= 1) {
        key_max = fmaxf(key_max, __shfl_xor_sync(0xffffffffu, key_max, offset));
        value_max = fmaxf(value_max, __shfl_xor_sync(0xffffffffu, value_max, offset));
      }
      const float key_scale = int8_row_scale(key_max), value_scale = int8_row_scale(value_max);
      const size_t slot = cache_offset + size_t(position) * kHeadDim;
      for (int d = lane; d < kHeadDim; d += 32) {
        const int8_t key_code = int8_code(key_new[d], key_scale), value_code = int8_code(value_new[d], value_scale);
        key_new[d] = float(key_code) * key_scale;
        value_new[d] = float(value_code) * value_scale;
        if (head % group == 0) {
          key_codes[slot + d] = key_code;
          value_codes[slot + d] = value_code;
        }
      }
      if (lane == 0 && head % group == 0) {
        key_scales[row_offset + position] = key_scale;
        value_scales[row_offset + position] = value_scale;
      }
    }
    __syncthreads();
  }

  // Scores of the cached tokens (the new one, if here, comes from shared memory).
  const int cached = holds_new_token ? count - 1 : count;
  const int row_in_warp = lane / kLanes, part = lane % kLanes;
  float q_part[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) q_part[e] = q_shared[part * 8 + e];
  // kUnroll rows per lane group in flight before the first is used: enough loads outstanding to stream the cache.
  constexpr int kPass = kWarps * kRowsPerWarp;
  for (int first = warp * kRowsPerWarp; first < cached; first += kUnroll * kPass) {
    uint4 packed[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = first + u * kPass + row_in_warp;
      packed[u] = t < cached ? load_eight<kInt8>(keys, (begin + t) * kHeadDim + part * 8) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = first + u * kPass + row_in_warp;
      float k[8];
      unpack_eight<kInt8>(packed[u], k);
      float dot = 0;
#pragma unroll
      for (int e = 0; e < 8; ++e) dot += q_part[e] * k[e];
#pragma unroll
      for (int offset = kLanes / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
      if (t < cached && part == 0) scores[t] = kInt8 ? dot * __ldg(row_key_scales + begin + t) : dot;
    }
  }
  if (holds_new_token && warp == kWarps - 1) {
    float dot = 0;
    for (int d = lane; d < kHeadDim; d += 32) dot += q_shared[d] * key_new[d];
    for (int offset = 16; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
    if (lane == 0) scores[count - 1] = dot;
  }
  __syncthreads();

  float local_max = -INFINITY;
  for (int t = thread; t < count; t += kAttentionThreads) local_max = fmaxf(local_max, scores[t]);
  for (int offset = 16; offset > 0; offset >>= 1)
    local_max = fmaxf(local_max, __shfl_xor_sync(0xffffffffu, local_max, offset));
  if (lane == 0) scratch[warp] = local_max;
  __syncthreads();
  float maximum = scratch[0];
  for (int w = 1; w < kWarps; ++w) maximum = fmaxf(maximum, scratch[w]);
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
  const int value_row = thread / kLanes;
  float accumulator[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int first = value_row; first < cached; first += kUnroll * kRowsAtOnce) {
    uint4 packed[kUnroll];
    float p[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = first + u * kRowsAtOnce;
      const bool inside = t < cached;
      packed[u] = inside ? load_eight<kInt8>(values, (begin + t) * kHeadDim + part * 8) : make_uint4(0, 0, 0, 0);
      // An int8 row's scale joins its weight p (one multiply per row, not per value).
      p[u] = inside ? (kInt8 ? scores[t] * __ldg(row_value_scales + begin + t) : scores[t]) : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float v[8];
      unpack_eight<kInt8>(packed[u], v);
#pragma unroll
      for (int e = 0; e < 8; ++e) accumulator[e] += p[u] * v[e];
    }
  }
  if (holds_new_token && value_row == (count - 1) % kRowsAtOnce) {
    const float p = scores[count - 1];
#pragma unroll
    for (int e = 0; e < 8; ++e) accumulator[e] += p * value_new[part * 8 + e];
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) sums[value_row][part * 8 + e] = accumulator[e];
  __syncthreads();
  float sum = 0;
  for (int w = 0; w < kWarps; ++w) sum += scratch[8 + w];
  const size_t pair = size_t(b * heads + head);
  __half* out = attention_out + b * out_ld + head * kHeadDim;  // [B][NH][D] = [B][H], rows out_ld apart
  if (splits == 1) {
    for (int d = thread; d < kHeadDim; d += kAttentionThreads) {
      float total = 0;
      for (int r = 0; r < kRowsAtOnce; ++r) total += sums[r][d];
      out[d] = __float2half(total / sum);
    }
    return;
  }
  const size_t slot = pair * splits + split;
  for (int d = thread; d < kHeadDim; d += kAttentionThreads) {
    float total = 0;
    for (int r = 0; r < kRowsAtOnce; ++r) total += sums[r][d];
    partial_output[slot * kHeadDim + d] = total;
  }
  if (thread == 0) partial_stats[slot] = make_float2(maximum, sum);

  // Combine in the last split to arrive: its partials are visible to it once every split has fenced its own.
  __threadfence();
  __syncthreads();
  if (thread == 0) last_to_arrive = atomicAdd(&arrivals[pair], 1u) == unsigned(splits - 1);
  __syncthreads();
  if (!last_to_arrive) return;
  __threadfence();
  const float2* stats = partial_stats + pair * splits;
  float overall = -INFINITY;
  for (int s = 0; s < splits; ++s) overall = fmaxf(overall, __ldcg(&stats[s].x));
  for (int d = thread; d < kHeadDim; d += kAttentionThreads) {
    float numerator = 0, denominator = 0;
    for (int s = 0; s < splits; ++s) {
      const float weight = __expf(__ldcg(&stats[s].x) - overall);
      numerator += weight * __ldcg(&partial_output[(pair * splits + s) * kHeadDim + d]);
      denominator += weight * __ldcg(&stats[s].y);
    }
    out[d] = __float2half(numerator / denominator);
  }
  if (thread == 0) arrivals[pair] = 0;  // ready for the next block's attention and the next replay
}

// SwiGLU: act[b][i] = silu(gate) * up, gate = y[b][i], up = y[b][I + i] (fused gate/up output), fp16, act rows
// act_ld apart.
template <typename In>
__global__ void swiglu_kernel(const In* gate_up, __half* act, int64_t act_ld, int64_t batch, int64_t intermediate) {
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int64_t total = batch * intermediate;
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = index / intermediate, i = index % intermediate;
    const float gate = as_float(gate_up[b * 2 * intermediate + i]);
    const float up = as_float(gate_up[b * 2 * intermediate + intermediate + i]);
    act[b * act_ld + i] = __float2half(gate / (1.0f + __expf(-gate)) * up);
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
// The same contents as fill_cache_kernel (each value rounded to fp16 first), quantized row by row to int8 as the step
// appends them: one warp per row of head_dim values.
__global__ void fill_int8_cache_kernel(int8_t* key_codes, int8_t* value_codes, float* key_scales, float* value_scales,
                                       int64_t rows, int head_dim, uint64_t seed) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t row = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32; row < rows; row += warps) {
    float key_max = 0, value_max = 0;
    for (int d = lane; d < head_dim; d += 32) {
      const uint64_t i = uint64_t(row * head_dim + d);
      key_max = fmaxf(key_max, fabsf(__half2float(__float2half(synthetic::cached_key(seed, i)))));
      value_max = fmaxf(value_max, fabsf(__half2float(__float2half(synthetic::cached_value(seed, i)))));
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      key_max = fmaxf(key_max, __shfl_xor_sync(0xffffffffu, key_max, offset));
      value_max = fmaxf(value_max, __shfl_xor_sync(0xffffffffu, value_max, offset));
    }
    const float key_scale = int8_row_scale(key_max), value_scale = int8_row_scale(value_max);
    for (int d = lane; d < head_dim; d += 32) {
      const uint64_t i = uint64_t(row * head_dim + d);
      key_codes[i] = int8_code(__half2float(__float2half(synthetic::cached_key(seed, i))), key_scale);
      value_codes[i] = int8_code(__half2float(__float2half(synthetic::cached_value(seed, i))), value_scale);
    }
    if (lane == 0) {
      key_scales[row] = key_scale;
      value_scales[row] = value_scale;
    }
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
