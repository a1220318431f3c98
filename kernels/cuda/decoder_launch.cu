// The decoder step's kernel launches (decoder_launch.hpp): every instantiation the step uses, for In = float (own
// kernels, cuBLASLt) and __half (cuSPARSELt).
#include <algorithm>
#include <utility>

#include "decoder_kernels.cuh"
#include "gpu_runtime_internal.hpp"
#include "nmscope/kernels/cuda/decoder_launch.hpp"

namespace nmscope::kernels::cuda::decoder {

namespace {

template <typename... Expected, typename... Actual>
void launch_kernel(bool overlap_launch, dim3 grid, dim3 block, cudaStream_t stream, void (*kernel)(Expected...),
                   Actual&&... arguments) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = overlap_launch ? 1 : 0;
  check_cuda(cudaLaunchKernelEx(&config, kernel, std::forward<Actual>(arguments)...), "decoder kernel launch");
}

template <int kHeadDim, typename In, bool kInt8>
void launch_attention_with(cudaStream_t stream, bool overlap, const AttentionArgs<In>& a) {
  launch_kernel(overlap, dim3(unsigned(a.splits), unsigned(a.heads), unsigned(a.batch)), dim3(kAttentionThreads),
                stream, attention_kernel<kHeadDim, In, kInt8>, a.qkv, a.qkv_ld, a.qkv_bias, a.key_cache, a.value_cache,
                a.key_codes, a.value_codes, a.key_scales, a.value_scales, a.partial_output, a.partial_stats, a.arrivals,
                a.out, a.out_ld, a.heads, a.kv_heads, a.capacity, a.position, a.first_position, a.split_tokens, a.scale,
                a.inverse_frequencies);
}

template <int kHeadDim, typename In>
void launch_attention_of(cudaStream_t stream, bool overlap, const AttentionArgs<In>& a) {
  if (a.key_codes)
    launch_attention_with<kHeadDim, In, true>(stream, overlap, a);
  else
    launch_attention_with<kHeadDim, In, false>(stream, overlap, a);
}

}  // namespace

void launch_embed_norm(cudaStream_t stream, const __half* table, const uint8_t* codes, const __half* scales,
                       const int64_t* tokens, const __half* gain, float* h, __half* x, int64_t x_ld, int64_t batch,
                       int64_t hidden, float epsilon) {
  launch_kernel(false, dim3(unsigned(batch)), dim3(kNormThreads), stream, embed_norm_kernel, table, codes, scales,
                tokens, gain, h, x, x_ld, hidden, epsilon);
}

template <typename In>
void launch_residual_norm(cudaStream_t stream, bool overlap, const In* y, int64_t y_ld, float* h, const __half* gain,
                          __half* x, int64_t x_ld, int64_t batch, int64_t hidden, float epsilon) {
  launch_kernel(overlap, dim3(unsigned(batch)), dim3(kNormThreads), stream, residual_norm_kernel<In>, y, y_ld, h, gain,
                x, x_ld, hidden, epsilon);
}

template <typename In>
void launch_attention(cudaStream_t stream, bool overlap, const AttentionArgs<In>& args) {
  switch (args.head_dim) {
    case 16:
      return launch_attention_of<16, In>(stream, overlap, args);
    case 32:
      return launch_attention_of<32, In>(stream, overlap, args);
    case 64:
      return launch_attention_of<64, In>(stream, overlap, args);
    default:
      return launch_attention_of<128, In>(stream, overlap, args);
  }
}

template <typename In>
void launch_swiglu(cudaStream_t stream, bool overlap, const In* gate_up, __half* act, int64_t act_ld, int64_t batch,
                   int64_t intermediate) {
  const int64_t elements = batch * intermediate;
  launch_kernel(overlap, dim3(unsigned(std::min<int64_t>((elements + 255) / 256, 1024))), dim3(256), stream,
                swiglu_kernel<In>, gate_up, act, act_ld, batch, intermediate);
}

void fill_embedding(__half* table, int64_t count, uint64_t seed) {
  fill_embedding_kernel<<<1024, 256>>>(table, count, seed);
}

void fill_gains(__half* gains, int64_t norms, int64_t hidden, uint64_t seed) {
  fill_gains_kernel<<<256, 256>>>(gains, norms, hidden, seed);
}

void fill_cache(__half* keys, __half* values, int64_t count, uint64_t seed) {
  fill_cache_kernel<<<1024, 256>>>(keys, values, count, seed);
}

void fill_int8_cache(int8_t* key_codes, int8_t* value_codes, float* key_scales, float* value_scales, int64_t rows,
                     int head_dim, uint64_t seed) {
  fill_int8_cache_kernel<<<1024, 256>>>(key_codes, value_codes, key_scales, value_scales, rows, head_dim, seed);
}

template <typename In>
void gather_logits(cudaStream_t stream, const In* logits, int64_t ld, float* out, int64_t batch, int64_t vocab) {
  gather_logits_kernel<In><<<256, 256, 0, stream>>>(logits, ld, out, batch, vocab);
}

#define NMSCOPE_DECODER_LAUNCHES(In)                                                                             \
  template void launch_residual_norm<In>(cudaStream_t, bool, const In*, int64_t, float*, const __half*, __half*, \
                                         int64_t, int64_t, int64_t, float);                                      \
  template void launch_attention<In>(cudaStream_t, bool, const AttentionArgs<In>&);                              \
  template void launch_swiglu<In>(cudaStream_t, bool, const In*, __half*, int64_t, int64_t, int64_t);            \
  template void gather_logits<In>(cudaStream_t, const In*, int64_t, float*, int64_t, int64_t);
NMSCOPE_DECODER_LAUNCHES(float)
NMSCOPE_DECODER_LAUNCHES(__half)
#undef NMSCOPE_DECODER_LAUNCHES

}  // namespace nmscope::kernels::cuda::decoder
