#pragma once
// The building blocks both families share, each parallel over rows (tokens) or output features with TBB. All fp32
// storage; reductions of norms run in double so a 4096-wide row does not lose digits the reference keeps.
#include <cstdint>

#include "nmscope/matrix.hpp"
#include "nmscope/model.hpp"

namespace nmscope::transformer {

// y = x W^T (+ bias): x [tokens, K], W [N_out, K] (docs/conventions.md). Parallel over blocks of output features.
MatrixF linear(const MatrixF& x, const MatrixF& weights, const VectorF* bias = nullptr);
// x <- x / sqrt(mean(x^2) + eps) * weight, per row (LLaMA's RMSNorm).
void rms_norm(MatrixF& x, const VectorF& weight, double eps);
// x <- (x - mean) / sqrt(var + eps) * weight + bias, per row (BERT's LayerNorm, biased variance).
void layer_norm(MatrixF& x, const VectorF& weight, const VectorF& bias, double eps);
void silu_times(MatrixF& gate, const MatrixF& up);  // gate <- silu(gate) * up (SwiGLU)
void gelu(MatrixF& x, bool tanh_approximation);
// The head_dim / 2 rotary frequencies theta^(-2i / head_dim), stretched as `scaling` says (linear, llama3), computed
// in fp32 as transformers computes them.
VectorF rope_inverse_frequencies(int64_t head_dim, double theta, const RopeScaling& scaling);
// Rotary embeddings on q or k [sequences * tokens, heads * head_dim], HF's "rotate half" layout: dimension i pairs with
// i + head_dim / 2, angle = position * inverse_frequency[i].
void apply_rope(MatrixF& x, int64_t tokens, int64_t heads, int64_t head_dim, const VectorF& inverse_frequency);
// The same rotation with every row at one `position` (a decode step: the new token of each sequence).
void apply_rope_at(MatrixF& x, int64_t position, int64_t heads, int64_t head_dim, const VectorF& inverse_frequency);

struct AttentionShape {
  int64_t sequences = 0, tokens = 0, heads = 0, kv_heads = 0, head_dim = 0;
  bool causal = false;
  int64_t sliding_window = 0;  // 0 = unlimited; else a query sees keys at most window - 1 positions back
};
// softmax(Q K^T / sqrt(head_dim) + mask) V per sequence and head; query head h reads kv head h / (heads / kv_heads).
MatrixF attention(const MatrixF& q, const MatrixF& k, const MatrixF& v, const AttentionShape& shape);

}  // namespace nmscope::transformer
