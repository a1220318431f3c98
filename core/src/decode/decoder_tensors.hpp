#pragma once
// A LLaMA-style decoder model's tensors (llama, mistral, qwen2) as the decode steps load them: the one place their
// names live, shared by the CPU decoder (cpu_decoder.cpp) and the GPU decoder's weights (gpu_decode.cpp).
#include <cstdint>

#include "nmscope/matrix.hpp"
#include "nmscope/model.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope::decode {

struct LinearTensor {
  MatrixF weight;  // [out, in]
  VectorF bias;    // empty when the model has none (qwen2 has q/k/v biases)
};

struct BlockTensors {
  LinearTensor q, k, v, o, gate, up, down;
  VectorF attention_norm, mlp_norm;
};

// Throws Error naming the model unless it is a decoder the steps run.
// How both decoders quantize their packed linear layers: symmetric b-bit codes with fp16 scales per 128 columns.
inline QuantConfig decoder_quant(int bits) { return {bits, Granularity::Group, 128, true}; }

void require_decoder(const Model& model);
BlockTensors load_block(const Model& model, int64_t block);
MatrixF load_embedding_table(const Model& model);  // [vocab, hidden]
// lm_head, or the embedding table when the model ties them (it has no lm_head).
MatrixF load_head(const Model& model, const MatrixF& embedding_table);
VectorF load_final_norm(const Model& model);

}  // namespace nmscope::decode
