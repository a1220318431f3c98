// Tensor names and shapes of the modelled families, as transformers' LlamaModel/MistralModel/Qwen2Model and BertModel
// save them (state_dict names, nn.Linear weights [out, in]).
#include "model/model_layout.hpp"

#include <algorithm>

namespace nmscope::model_layout {

namespace {

Layout decoder_layout(const ModelConfig& config) {
  const int64_t hidden = config.hidden, inner = config.intermediate;
  const int64_t q_width = config.heads * config.head_dim, kv_width = config.kv_heads * config.head_dim;
  Layout layout;
  layout.block_prefix = "model.layers.";
  // Biases are optional: qwen2 has them on q/k/v, llama only with attention_bias / mlp_bias.
  layout.block = {
      {"input_layernorm.weight", LayerRole::Norm, {hidden}},
      {"self_attn.q_proj.weight", LayerRole::Query, {q_width, hidden}},
      {"self_attn.q_proj.bias", LayerRole::Bias, {q_width}, false},
      {"self_attn.k_proj.weight", LayerRole::Key, {kv_width, hidden}},
      {"self_attn.k_proj.bias", LayerRole::Bias, {kv_width}, false},
      {"self_attn.v_proj.weight", LayerRole::Value, {kv_width, hidden}},
      {"self_attn.v_proj.bias", LayerRole::Bias, {kv_width}, false},
      {"self_attn.o_proj.weight", LayerRole::AttentionOutput, {hidden, q_width}},
      {"self_attn.o_proj.bias", LayerRole::Bias, {hidden}, false},
      {"post_attention_layernorm.weight", LayerRole::Norm, {hidden}},
      {"mlp.gate_proj.weight", LayerRole::Gate, {inner, hidden}},
      {"mlp.gate_proj.bias", LayerRole::Bias, {inner}, false},
      {"mlp.up_proj.weight", LayerRole::Up, {inner, hidden}},
      {"mlp.up_proj.bias", LayerRole::Bias, {inner}, false},
      {"mlp.down_proj.weight", LayerRole::Down, {hidden, inner}},
      {"mlp.down_proj.bias", LayerRole::Bias, {hidden}, false},
  };
  layout.global = {
      {"model.embed_tokens.weight", LayerRole::Embedding, {config.vocab, hidden}},
      {"model.norm.weight", LayerRole::Norm, {hidden}},
      {"lm_head.weight", LayerRole::Head, {config.vocab, hidden}, !config.tie_word_embeddings},
  };
  return layout;
}

Layout encoder_layout(const ModelConfig& config, const std::vector<std::string>& names) {
  const int64_t hidden = config.hidden, inner = config.intermediate;
  Layout layout;
  // BertForMaskedLM and friends save the encoder under "bert."; sentence-transformers saves BertModel bare.
  const bool prefixed = std::find(names.begin(), names.end(), "bert.embeddings.word_embeddings.weight") != names.end();
  layout.root = prefixed ? "bert." : "";
  layout.block_prefix = layout.root + "encoder.layer.";
  layout.block = {
      {"attention.self.query.weight", LayerRole::Query, {hidden, hidden}},
      {"attention.self.query.bias", LayerRole::Bias, {hidden}},
      {"attention.self.key.weight", LayerRole::Key, {hidden, hidden}},
      {"attention.self.key.bias", LayerRole::Bias, {hidden}},
      {"attention.self.value.weight", LayerRole::Value, {hidden, hidden}},
      {"attention.self.value.bias", LayerRole::Bias, {hidden}},
      {"attention.output.dense.weight", LayerRole::AttentionOutput, {hidden, hidden}},
      {"attention.output.dense.bias", LayerRole::Bias, {hidden}},
      {"attention.output.LayerNorm.weight", LayerRole::Norm, {hidden}},
      {"attention.output.LayerNorm.bias", LayerRole::Norm, {hidden}},
      {"intermediate.dense.weight", LayerRole::Up, {inner, hidden}},
      {"intermediate.dense.bias", LayerRole::Bias, {inner}},
      {"output.dense.weight", LayerRole::Down, {hidden, inner}},
      {"output.dense.bias", LayerRole::Bias, {hidden}},
      {"output.LayerNorm.weight", LayerRole::Norm, {hidden}},
      {"output.LayerNorm.bias", LayerRole::Norm, {hidden}},
  };
  layout.global = {
      {"embeddings.word_embeddings.weight", LayerRole::Embedding, {config.vocab, hidden}},
      {"embeddings.position_embeddings.weight", LayerRole::PositionEmbedding, {config.max_positions, hidden}},
      {"embeddings.token_type_embeddings.weight", LayerRole::TokenTypeEmbedding, {config.token_types, hidden}},
      {"embeddings.LayerNorm.weight", LayerRole::Norm, {hidden}},
      {"embeddings.LayerNorm.bias", LayerRole::Norm, {hidden}},
      {"pooler.dense.weight", LayerRole::Pooler, {hidden, hidden}, false},
      {"pooler.dense.bias", LayerRole::Bias, {hidden}, false},
  };
  // The global names carry the root prefix like the block names do.
  return layout;
}

}  // namespace

Layout layout_for(const ModelConfig& config, const std::vector<std::string>& names) {
  switch (config.family) {
    case ModelFamily::Decoder:
      return decoder_layout(config);
    case ModelFamily::Encoder:
      return encoder_layout(config, names);
    case ModelFamily::Unsupported:
      break;
  }
  return {};
}

}  // namespace nmscope::model_layout
