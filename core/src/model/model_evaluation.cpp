// Model-level metrics. Log-softmax in double per position (a 32k-wide row of fp32 logits summed in float loses the
// small probabilities that KL is made of); positions are independent, so they are scored in parallel.
#include "nmscope/model_evaluation.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>

#include "nmscope/error.hpp"

namespace nmscope {

namespace {

Eigen::VectorXd log_softmax(const Eigen::Ref<const Eigen::RowVectorXf>& logits) {
  const Eigen::VectorXd wide = logits.cast<double>().transpose();
  const double maximum = wide.maxCoeff();
  const double log_sum = std::log((wide.array() - maximum).exp().sum()) + maximum;
  return wide.array() - log_sum;
}

ModelQuality decoder_quality(const DenseReference& reference, const MatrixF& outputs) {
  const TokenIds& tokens = reference.tokens;
  const int64_t scored_per_sequence = tokens.tokens - 1;
  const int64_t scored = tokens.sequences * scored_per_sequence;
  Eigen::VectorXd dense_nll(scored), nll(scored), kl(scored), agree(scored);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, scored, 8), [&](const auto& range) {
    for (int64_t index = range.begin(); index < range.end(); ++index) {
      const int64_t sequence = index / scored_per_sequence, position = index % scored_per_sequence;
      const int64_t row = sequence * tokens.tokens + position;
      const int64_t next = tokens.at(sequence, position + 1);
      const Eigen::VectorXd dense = log_softmax(reference.outputs.row(row));
      const Eigen::VectorXd compressed = log_softmax(outputs.row(row));
      dense_nll[index] = -dense[next];
      nll[index] = -compressed[next];
      kl[index] = (dense.array().exp() * (dense - compressed).array()).sum();
      Eigen::Index dense_top = 0, compressed_top = 0;
      dense.maxCoeff(&dense_top);
      compressed.maxCoeff(&compressed_top);
      agree[index] = dense_top == compressed_top ? 1.0 : 0.0;
    }
  });
  ModelQuality quality;
  quality.scored = scored;
  quality.dense_perplexity = std::exp(dense_nll.mean());
  quality.perplexity = std::exp(nll.mean());
  quality.mean_kl = std::max(0.0, kl.mean());
  quality.top1_agreement = agree.mean();
  return quality;
}

ModelQuality encoder_quality(const DenseReference& reference, const MatrixF& outputs) {
  double total = 0;
  for (Eigen::Index row = 0; row < outputs.rows(); ++row) {
    const Eigen::VectorXd dense = reference.outputs.row(row).cast<double>().transpose();
    const Eigen::VectorXd compressed = outputs.row(row).cast<double>().transpose();
    const double norms = dense.norm() * compressed.norm();
    total += norms > 0 ? dense.dot(compressed) / norms : 0.0;
  }
  ModelQuality quality;
  quality.scored = outputs.rows();
  quality.mean_cosine = total / double(outputs.rows());
  return quality;
}

}  // namespace

void check_evaluation_tokens(const TokenIds& tokens, const Model& model, const std::string& subject) {
  if (tokens.tokens < 2) {
    throw Error(subject, "an evaluation set needs at least 2 tokens per sequence (it has " +
                             std::to_string(tokens.tokens) + "): there is no next token to predict or pool over");
  }
  check_token_ids(tokens, model, subject);
}

DenseReference dense_reference(const Model& model, const TokenIds& tokens, const std::string& subject,
                               const std::atomic<bool>* cancel) {
  check_evaluation_tokens(tokens, model, subject);
  DenseReference reference;
  reference.family = model.config().family;
  reference.tokens = tokens;
  ForwardHooks hooks;
  hooks.cancel = cancel;
  const ForwardOutput output =
      reference.family == ModelFamily::Decoder ? ForwardOutput::AllLogits : ForwardOutput::Final;
  reference.outputs = run_forward(model, tokens, hooks, output, subject);
  return reference;
}

ModelQuality compare_with_dense(const DenseReference& reference, const MatrixF& outputs) {
  if (outputs.rows() != reference.outputs.rows() || outputs.cols() != reference.outputs.cols())
    throw Error("model-eval", "compressed outputs do not have the dense outputs' shape");
  return reference.family == ModelFamily::Decoder ? decoder_quality(reference, outputs)
                                                  : encoder_quality(reference, outputs);
}

ModelQuality evaluate_compressed(const Model& model, const DenseReference& reference, const CompressedModel& compressed,
                                 const std::atomic<bool>* cancel) {
  const ForwardOutput output =
      reference.family == ModelFamily::Decoder ? ForwardOutput::AllLogits : ForwardOutput::Final;
  return compare_with_dense(reference, run_forward(model, reference.tokens, compressed.hooks(cancel), output));
}

}  // namespace nmscope
