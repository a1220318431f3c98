// LLaMA-style decoder (llama, mistral, qwen2), as transformers' LlamaModel computes it in fp32: RMSNorm before
// attention and MLP, rotary embeddings on q and k, grouped-query causal attention, SwiGLU, final RMSNorm, the head.
#include "model/forward_steps.hpp"
#include "model/transformer_math.hpp"

namespace nmscope::forward_steps {

namespace {

MatrixF embed(const Steps& steps, const TokenIds& tokens) {
  return gather_rows(steps.model(), steps.model().at(-1, "model.embed_tokens.weight"), tokens.ids);
}

void decoder_block(const Steps& steps, int64_t block, const TokenIds& tokens, MatrixF& hidden) {
  const ModelConfig& config = steps.model().config();
  MatrixF normed = hidden;
  transformer::rms_norm(normed, steps.vector(block, "input_layernorm.weight"), config.norm_eps);
  MatrixF q = steps.linear(block, "self_attn.q_proj.weight", normed);
  MatrixF k = steps.linear(block, "self_attn.k_proj.weight", normed);
  const MatrixF v = steps.linear(block, "self_attn.v_proj.weight", normed);
  const VectorF frequencies = transformer::rope_inverse_frequencies(config.head_dim, config.rope_theta, config.rope_scaling);
  transformer::apply_rope(q, tokens.tokens, config.heads, config.head_dim, frequencies);
  transformer::apply_rope(k, tokens.tokens, config.kv_heads, config.head_dim, frequencies);
  const transformer::AttentionShape shape{tokens.sequences, tokens.tokens, config.heads,         config.kv_heads,
                                          config.head_dim,  true,          config.sliding_window};
  const MatrixF context = transformer::attention(q, k, v, shape);
  hidden += steps.linear(block, "self_attn.o_proj.weight", context);

  normed = hidden;
  transformer::rms_norm(normed, steps.vector(block, "post_attention_layernorm.weight"), config.norm_eps);
  MatrixF gate = steps.linear(block, "mlp.gate_proj.weight", normed);
  const MatrixF up = steps.linear(block, "mlp.up_proj.weight", normed);
  transformer::silu_times(gate, up);
  hidden += steps.linear(block, "mlp.down_proj.weight", gate);
}

}  // namespace

MatrixF decoder_forward(const Steps& steps, const TokenIds& tokens, ForwardOutput output) {
  const Model& model = steps.model();
  const ModelConfig& config = model.config();
  MatrixF hidden = embed(steps, tokens);
  for (int64_t block = 0; block < config.blocks; ++block) {
    steps.check_cancel();
    decoder_block(steps, block, tokens, hidden);
  }
  if (output == ForwardOutput::Final) {
    MatrixF last(tokens.sequences, hidden.cols());
    for (int64_t sequence = 0; sequence < tokens.sequences; ++sequence)
      last.row(sequence) = hidden.row(sequence * tokens.tokens + tokens.tokens - 1);
    hidden = std::move(last);
  }
  transformer::rms_norm(hidden, steps.vector(-1, "model.norm.weight"), config.norm_eps);
  // The head is excluded from compression, so it is applied as loaded; tied models reuse the embedding matrix.
  const ModelTensor* head = model.find(-1, "lm_head.weight");
  return chunked_linear(model, head ? *head : model.at(-1, "model.embed_tokens.weight"), hidden);
}

}  // namespace nmscope::forward_steps
