#pragma once
// The decoder step's synthetic contents that are not linear weights (embeddings, norm gains, the KV cache of the
// earlier tokens, the tokens themselves), as pure functions of (seed, stream, index): the GPU fills its buffers with
// them and an independent CPU reference recomputes the same values, without any buffer crossing over.
#include <cstdint>

#if defined(__CUDACC__)
#define NMSCOPE_HOST_DEVICE __host__ __device__
#else
#define NMSCOPE_HOST_DEVICE
#endif

namespace nmscope::kernels::cuda::synthetic {

enum Stream : uint64_t { kEmbedding = 1, kNormGain = 2, kKeyCache = 3, kValueCache = 4, kToken = 5 };

// splitmix64 of (seed, stream, index): a well-mixed 64-bit value.
NMSCOPE_HOST_DEVICE inline uint64_t mix(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + stream * 0xBF58476D1CE4E5B9ull + index + 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in [-1, 1), a multiple of 2^-23, so it converts to fp16 the same way on both sides.
NMSCOPE_HOST_DEVICE inline float uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return float(int64_t(mix(seed, stream, index) >> 40) - (int64_t(1) << 23)) * (1.0f / float(1 << 23));
}
// Embedding rows: small values, as trained embeddings are (the first norm rescales them anyway).
NMSCOPE_HOST_DEVICE inline float embedding(uint64_t seed, uint64_t index) {
  return 0.05f * uniform(seed, kEmbedding, index);
}
// RMSNorm gains around 1. `norm` numbers the norms: 2 per block (attention, MLP), then the final one.
NMSCOPE_HOST_DEVICE inline float norm_gain(uint64_t seed, uint64_t norm, uint64_t index) {
  return 1.0f + 0.1f * uniform(seed, kNormGain, norm * 1000003ull + index);
}
// Cached keys and values of the earlier tokens, flat index over [block][batch][kv_head][position][head_dim].
NMSCOPE_HOST_DEVICE inline float cached_key(uint64_t seed, uint64_t index) { return uniform(seed, kKeyCache, index); }
NMSCOPE_HOST_DEVICE inline float cached_value(uint64_t seed, uint64_t index) {
  return uniform(seed, kValueCache, index);
}
NMSCOPE_HOST_DEVICE inline int64_t token(uint64_t seed, int64_t sequence, int64_t vocab) {
  return int64_t(mix(seed, kToken, uint64_t(sequence)) % uint64_t(vocab));
}

}  // namespace nmscope::kernels::cuda::synthetic
