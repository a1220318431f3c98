// The decoder tensors' names and loading (decoder_tensors.hpp).
#include "decode/decoder_tensors.hpp"

#include "nmscope/error.hpp"

namespace nmscope::decode {

namespace {

LinearTensor load_linear(const Model& model, int64_t block, const std::string& stem) {
  LinearTensor linear;
  linear.weight = model.load(model.at(block, stem + ".weight"));
  if (const ModelTensor* bias = model.find(block, stem + ".bias")) linear.bias = model.load_vector(*bias);
  return linear;
}

}  // namespace

void require_decoder(const Model& model) {
  if (model.config().family != ModelFamily::Decoder)
    throw Error(model.directory(), "the decode step runs LLaMA-style decoders (llama, mistral, qwen2); this is '" +
                                       model.config().model_type + "'");
}

BlockTensors load_block(const Model& model, int64_t block) {
  BlockTensors tensors;
  tensors.q = load_linear(model, block, "self_attn.q_proj");
  tensors.k = load_linear(model, block, "self_attn.k_proj");
  tensors.v = load_linear(model, block, "self_attn.v_proj");
  tensors.o = load_linear(model, block, "self_attn.o_proj");
  tensors.gate = load_linear(model, block, "mlp.gate_proj");
  tensors.up = load_linear(model, block, "mlp.up_proj");
  tensors.down = load_linear(model, block, "mlp.down_proj");
  tensors.attention_norm = model.load_vector(model.at(block, "input_layernorm.weight"));
  tensors.mlp_norm = model.load_vector(model.at(block, "post_attention_layernorm.weight"));
  return tensors;
}

MatrixF load_embedding_table(const Model& model) { return model.load(model.at(-1, "model.embed_tokens.weight")); }

MatrixF load_head(const Model& model, const MatrixF& embedding_table) {
  const ModelTensor* head = model.find(-1, "lm_head.weight");
  return head ? model.load(*head) : embedding_table;
}

VectorF load_final_norm(const Model& model) { return model.load_vector(model.at(-1, "model.norm.weight")); }

}  // namespace nmscope::decode
