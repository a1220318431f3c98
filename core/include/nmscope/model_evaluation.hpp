#pragma once
// Model-level accuracy: the compressed model against the dense one on evaluation tokens. Decoders: perplexity of both
// on next-token prediction, mean KL divergence KL(dense || compressed) of the next-token distributions, top-1
// agreement. Encoders: mean cosine similarity of the pooled embeddings to the dense model's.
#include <atomic>
#include <limits>
#include <string>

#include "nmscope/forward.hpp"
#include "nmscope/model_compression.hpp"

namespace nmscope {

struct ModelQuality {
  int64_t scored = 0;  // next-token positions (decoders) or sequences (encoders) the figures average over
  double dense_perplexity = std::numeric_limits<double>::quiet_NaN();
  double perplexity = std::numeric_limits<double>::quiet_NaN();
  double mean_kl = std::numeric_limits<double>::quiet_NaN();
  double top1_agreement = std::numeric_limits<double>::quiet_NaN();
  double mean_cosine = std::numeric_limits<double>::quiet_NaN();
};

// The dense model's outputs on the evaluation tokens, computed once and compared with every configuration.
struct DenseReference {
  ModelFamily family = ModelFamily::Unsupported;
  TokenIds tokens;
  MatrixF outputs;  // decoders: logits of every position; encoders: pooled embeddings
};

// Throws Error(subject, ...) when the set cannot be scored: fewer than 2 tokens per sequence (no next token to predict,
// nothing to pool over), or ids that do not fit the model.
void check_evaluation_tokens(const TokenIds& tokens, const Model& model, const std::string& subject);
DenseReference dense_reference(const Model& model, const TokenIds& tokens, const std::string& subject,
                               const std::atomic<bool>* cancel = nullptr);
// Compares outputs of the same shape as reference.outputs (computed with a compressed model's hooks).
ModelQuality compare_with_dense(const DenseReference& reference, const MatrixF& outputs);
ModelQuality evaluate_compressed(const Model& model, const DenseReference& reference, const CompressedModel& compressed,
                                 const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
