#include "nmscope/metrics.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>
#include <vector>

#include "util/portable_random.hpp"

namespace nmscope {

namespace {

// Rows per block: a block of K doubles per row stays small (64 x 11008 x 8 B = 5.6 MB), so no full-size double copy
// of a weight matrix is ever made.
constexpr int64_t kRowsPerBlock = 64;

struct BlockSums {
  double weight_diff = 0;   // sum (W - W_hat)^2
  double weight = 0;        // sum W^2
  double output = 0;        // sum of squares of an output-side product: X W^T, or X (W_hat - W)^T
};

// Per-block partial sums, added in block order afterwards, so results do not depend on the thread schedule.
template <typename BlockFunction>
BlockSums sum_over_blocks(int64_t rows, BlockFunction&& function) {
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<BlockSums> partial(static_cast<size_t>(blocks));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks, 1), [&](const auto& range) {
    for (int64_t block = range.begin(); block != range.end(); ++block) {
      const int64_t first = block * kRowsPerBlock;
      partial[size_t(block)] = function(first, std::min(kRowsPerBlock, rows - first));
    }
  });
  BlockSums total;
  for (const auto& sums : partial) {
    total.weight_diff += sums.weight_diff;
    total.weight += sums.weight;
    total.output += sums.output;
  }
  return total;
}

}  // namespace

OutputReference::OutputReference(const MatrixF& weights, const MatrixF& activations)
    : activations_(activations.cast<double>()) {
  const BlockSums sums = sum_over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    const MatrixD block = weights.middleRows(first, count).cast<double>();
    BlockSums result;
    result.weight = block.squaredNorm();
    result.output = (activations_ * block.transpose()).squaredNorm();
    return result;
  });
  weight_norm_ = std::sqrt(sums.weight);
  output_norm_ = std::sqrt(sums.output);
}

AccuracyFigures measure_accuracy(const MatrixF& weights, const MatrixF& approximation,
                                 const OutputReference& reference) {
  const MatrixD& activations = reference.activations();
  const BlockSums sums = sum_over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    const MatrixD difference =
        approximation.middleRows(first, count).cast<double>() - weights.middleRows(first, count).cast<double>();
    BlockSums result;
    result.weight_diff = difference.squaredNorm();
    if (activations.rows() > 0) result.output = (activations * difference.transpose()).squaredNorm();
    return result;
  });
  AccuracyFigures figures;
  const double weight_diff = std::sqrt(sums.weight_diff);
  const double output_diff = std::sqrt(sums.output);
  figures.weight_rel_err = reference.weight_norm() > 0 ? weight_diff / reference.weight_norm() : (weight_diff > 0 ? INFINITY : 0);
  figures.output_rel_err = reference.output_norm() > 0 ? output_diff / reference.output_norm() : (output_diff > 0 ? INFINITY : 0);
  figures.sqnr_db = figures.weight_rel_err > 0 ? -20.0 * std::log10(figures.weight_rel_err)
                                               : std::numeric_limits<double>::infinity();
  return figures;
}

MatrixD reference_product(const MatrixF& activations, const MatrixF& weights) {
  const MatrixD x = activations.cast<double>();
  MatrixD product(activations.rows(), weights.rows());
  const int64_t blocks = (weights.rows() + kRowsPerBlock - 1) / kRowsPerBlock;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks, 1), [&](const auto& range) {
    for (int64_t block = range.begin(); block != range.end(); ++block) {
      const int64_t first = block * kRowsPerBlock;
      const int64_t count = std::min(kRowsPerBlock, int64_t(weights.rows()) - first);
      product.middleCols(first, count).noalias() = x * weights.middleRows(first, count).cast<double>().transpose();
    }
  });
  return product;
}

double relative_error(const MatrixD& reference, const MatrixF& approximation) {
  const double reference_norm = reference.norm();
  const double difference = (approximation.cast<double>() - reference).norm();
  if (reference_norm == 0) return difference == 0 ? 0.0 : INFINITY;
  return difference / reference_norm;
}

MatrixF synthetic_activations(int64_t tokens, int64_t k, uint64_t seed) {
  MatrixF activations(tokens, k);
  for (int64_t token = 0; token < tokens; ++token) {
    PortableRandom random(stream_seed(seed, uint64_t(token)));
    for (int64_t col = 0; col < k; ++col) activations(token, col) = float(random.normal());
  }
  return activations;
}

}  // namespace nmscope
