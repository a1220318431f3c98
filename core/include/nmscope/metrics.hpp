#pragma once
// Accuracy figures of docs/conventions.md, in double precision against the weights as loaded.
#include <cstdint>
#include <vector>

#include "nmscope/matrix.hpp"

namespace nmscope {

struct AccuracyFigures {
  double weight_rel_err = 0;  // ||W - W_hat||_F / ||W||_F
  double output_rel_err = 0;  // ||X W_hat^T - X W^T||_F / ||X W^T||_F
  double sqnr_db = 0;         // -20 log10(weight_rel_err); +inf when exact
};

// The sums behind the figures, in double, over one block of kAccuracyBlockRows rows. OutputReference and
// measure_accuracy add them block by block in row order; a layer measured in row slices of whole blocks (a model
// study streams its layers) adds the same blocks in the same order, so both ways give the same bits.
inline constexpr int64_t kAccuracyBlockRows = 64;
struct AccuracySums {
  double weight = 0;       // sum W^2
  double output = 0;       // sum (X W^T)^2
  double weight_diff = 0;  // sum (W_hat - W)^2
  double output_diff = 0;  // sum (X (W_hat - W)^T)^2
  void add(const AccuracySums& other) {
    weight += other.weight;
    output += other.output;
    weight_diff += other.weight_diff;
    output_diff += other.output_diff;
  }
};

// The evaluation activations of one tensor and ||X W^T||_F, computed once and shared by every config of a tensor.
class OutputReference {
 public:
  OutputReference(const MatrixF& weights, const MatrixF& activations);
  const MatrixD& activations() const { return activations_; }
  double output_norm() const { return output_norm_; }
  double weight_norm() const { return weight_norm_; }
  const AccuracySums& sums() const { return sums_; }

 private:
  MatrixD activations_;
  double output_norm_ = 0;
  double weight_norm_ = 0;
  AccuracySums sums_;
};

AccuracyFigures measure_accuracy(const MatrixF& weights, const MatrixF& approximation, const OutputReference& reference);

// One entry per block of rows of `weights` (the last block may be shorter), computed in parallel; `activations` is X in
// double [tokens, K]. The reference sums fill weight and output, the error sums weight_diff and output_diff.
std::vector<AccuracySums> reference_block_sums(const MatrixF& weights, const MatrixD& activations);
std::vector<AccuracySums> error_block_sums(const MatrixF& weights, const MatrixF& approximation,
                                           const MatrixD& activations);
// The figures from sums added in block order.
AccuracyFigures accuracy_from_sums(const AccuracySums& total);

// x W^T in double: the reference an engine's output is checked against. x [batch, K], W [N_out, K].
MatrixD reference_product(const MatrixF& activations, const MatrixF& weights);
// ||approx - reference||_F / ||reference||_F (0 when both are zero).
double relative_error(const MatrixD& reference, const MatrixF& approximation);

// N(0,1) activations [tokens, K] from a fixed, portable generator: the same bits on every machine.
MatrixF synthetic_activations(int64_t tokens, int64_t k, uint64_t seed);
inline constexpr int64_t kSyntheticEvalTokens = 16;
inline constexpr uint64_t kSyntheticActivationSeed = 0x6e6d73636f7065ULL;  // "nmscope"

}  // namespace nmscope
