#pragma once
// Accuracy figures of docs/conventions.md, in double precision against the weights as loaded.
#include <cstdint>

#include "nmscope/matrix.hpp"

namespace nmscope {

struct AccuracyFigures {
  double weight_rel_err = 0;  // ||W - W_hat||_F / ||W||_F
  double output_rel_err = 0;  // ||X W_hat^T - X W^T||_F / ||X W^T||_F
  double sqnr_db = 0;         // -20 log10(weight_rel_err); +inf when exact
};

// The evaluation activations of one tensor and ||X W^T||_F, computed once and shared by every config of a tensor.
class OutputReference {
 public:
  OutputReference(const MatrixF& weights, const MatrixF& activations);
  const MatrixD& activations() const { return activations_; }
  double output_norm() const { return output_norm_; }
  double weight_norm() const { return weight_norm_; }

 private:
  MatrixD activations_;
  double output_norm_ = 0;
  double weight_norm_ = 0;
};

AccuracyFigures measure_accuracy(const MatrixF& weights, const MatrixF& approximation, const OutputReference& reference);

// x W^T in double: the reference an engine's output is checked against. x [batch, K], W [N_out, K].
MatrixD reference_product(const MatrixF& activations, const MatrixF& weights);
// ||approx - reference||_F / ||reference||_F (0 when both are zero).
double relative_error(const MatrixD& reference, const MatrixF& approximation);

// N(0,1) activations [tokens, K] from a fixed, portable generator: the same bits on every machine.
MatrixF synthetic_activations(int64_t tokens, int64_t k, uint64_t seed);
inline constexpr int64_t kSyntheticEvalTokens = 16;
inline constexpr uint64_t kSyntheticActivationSeed = 0x6e6d73636f7065ULL;  // "nmscope"

}  // namespace nmscope
