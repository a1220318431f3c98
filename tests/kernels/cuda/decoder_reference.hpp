#pragma once
// The tiny decoder step in double precision on the CPU, written from the model's definition and not from the CUDA
// kernels: RMSNorm, RoPE (rotate-half pairs), grouped-query attention of the new token over the KV cache, SwiGLU,
// head. It reads the same synthetic cache contents and tokens (decoder_synthetic.hpp), the weights' embedding table,
// gains, q/k/v biases and RoPE frequencies where given (else the synthetic ones), all rounded to fp16 as the GPU
// stores them, and the same dequantized linear weights.
#include <vector>

#include "nmscope/gpu_decoder.hpp"

namespace nmscope::test {

// logits [batch][vocab] of one step at position `context`; `weights` must hold dense W_hat for every role.
std::vector<double> decoder_step_reference(const DecoderWeights& weights, int64_t batch, int64_t context);

}  // namespace nmscope::test
