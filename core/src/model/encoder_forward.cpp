// BERT-style encoder as transformers' BertModel computes it (post-LayerNorm blocks, GELU MLP, absolute position and
// token-type embeddings with every token type 0, no padding so no attention mask), then sentence-transformers'
// Pooling(mean) and Normalize: the embedding a user of a sentence encoder actually compares.
#include "model/forward_steps.hpp"
#include "model/transformer_math.hpp"

namespace nmscope::forward_steps {

namespace {

MatrixF embed(const Steps& steps, const TokenIds& tokens) {
  const ModelConfig& config = steps.model().config();
  const Model& model = steps.model();
  MatrixF hidden = gather_rows(model, model.at(-1, "embeddings.word_embeddings.weight"), tokens.ids);
  const MatrixF positions = model.load_rows(model.at(-1, "embeddings.position_embeddings.weight"), 0, tokens.tokens);
  const MatrixF token_type = model.load_rows(model.at(-1, "embeddings.token_type_embeddings.weight"), 0, 1);
  for (Eigen::Index row = 0; row < hidden.rows(); ++row)
    hidden.row(row) += positions.row(row % tokens.tokens) + token_type.row(0);
  transformer::layer_norm(hidden, steps.vector(-1, "embeddings.LayerNorm.weight"),
                          steps.vector(-1, "embeddings.LayerNorm.bias"), config.norm_eps);
  return hidden;
}

void encoder_block(const Steps& steps, int64_t block, const TokenIds& tokens, MatrixF& hidden) {
  const ModelConfig& config = steps.model().config();
  const MatrixF q = steps.linear(block, "attention.self.query.weight", hidden);
  const MatrixF k = steps.linear(block, "attention.self.key.weight", hidden);
  const MatrixF v = steps.linear(block, "attention.self.value.weight", hidden);
  const transformer::AttentionShape shape{
      tokens.sequences, tokens.tokens, config.heads, config.kv_heads, config.head_dim, false, 0};
  const MatrixF context = transformer::attention(q, k, v, shape);
  hidden += steps.linear(block, "attention.output.dense.weight", context);
  transformer::layer_norm(hidden, steps.vector(block, "attention.output.LayerNorm.weight"),
                          steps.vector(block, "attention.output.LayerNorm.bias"), config.norm_eps);

  MatrixF inner = steps.linear(block, "intermediate.dense.weight", hidden);
  transformer::gelu(inner, config.gelu_tanh);
  hidden += steps.linear(block, "output.dense.weight", inner);
  transformer::layer_norm(hidden, steps.vector(block, "output.LayerNorm.weight"),
                          steps.vector(block, "output.LayerNorm.bias"), config.norm_eps);
}

}  // namespace

MatrixF encoder_forward(const Steps& steps, const TokenIds& tokens) {
  const ModelConfig& config = steps.model().config();
  MatrixF hidden = embed(steps, tokens);
  for (int64_t block = 0; block < config.blocks; ++block) {
    steps.check_cancel();
    encoder_block(steps, block, tokens, hidden);
  }
  MatrixF pooled(tokens.sequences, config.hidden);
  for (int64_t sequence = 0; sequence < tokens.sequences; ++sequence) {
    const VectorD mean =
        hidden.middleRows(sequence * tokens.tokens, tokens.tokens).cast<double>().colwise().mean().transpose();
    // sentence-transformers' Normalize divides by max(norm, 1e-12).
    pooled.row(sequence) = (mean / std::max(mean.norm(), 1e-12)).cast<float>().transpose();
  }
  return pooled;
}

}  // namespace nmscope::forward_steps
