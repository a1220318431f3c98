#include "nmscope/metrics.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>
#include <vector>

#include "util/portable_random.hpp"

namespace nmscope {

namespace {

constexpr int64_t kRowsPerBlock = kAccuracyBlockRows;

// Blocks of 64 rows: a block of K doubles per row stays small, so no full-size double copy of a weight matrix is
// ever made.
template <typename BlockFunction>
std::vector<AccuracySums> over_blocks(int64_t rows, BlockFunction&& function) {
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<AccuracySums> partial(static_cast<size_t>(blocks));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks, 1), [&](const auto& range) {
    for (int64_t block = range.begin(); block != range.end(); ++block) {
      const int64_t first = block * kRowsPerBlock;
      partial[size_t(block)] = function(first, std::min(kRowsPerBlock, rows - first));
    }
  });
  return partial;
}

AccuracySums add_in_order(const std::vector<AccuracySums>& blocks) {
  AccuracySums total;
  for (const auto& sums : blocks) total.add(sums);
  return total;
}

}  // namespace

// Row by row: X w (16 x K by K) is a matrix-vector product that reads X from cache, where X W_block^T as a general
// matrix product first packed a 64 x K double copy of the block (perf: a quarter of a model study's time).
std::vector<AccuracySums> reference_block_sums(const MatrixF& weights, const MatrixD& activations) {
  return over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    AccuracySums sums;
    Eigen::VectorXd row(weights.cols()), product(activations.rows());
    for (int64_t index = first; index < first + count; ++index) {
      row = weights.row(index).transpose().cast<double>();
      sums.weight += row.squaredNorm();
      if (activations.rows() > 0) {
        product.noalias() = activations * row;
        sums.output += product.squaredNorm();
      }
    }
    return sums;
  });
}

std::vector<AccuracySums> error_block_sums(const MatrixF& weights, const MatrixF& approximation,
                                           const MatrixD& activations) {
  return over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    AccuracySums sums;
    Eigen::VectorXd difference(weights.cols()), product(activations.rows());
    for (int64_t index = first; index < first + count; ++index) {
      difference = approximation.row(index).transpose().cast<double>() - weights.row(index).transpose().cast<double>();
      sums.weight_diff += difference.squaredNorm();
      if (activations.rows() > 0) {
        product.noalias() = activations * difference;
        sums.output_diff += product.squaredNorm();
      }
    }
    return sums;
  });
}

AccuracyFigures accuracy_from_sums(const AccuracySums& total) {
  const double weight_norm = std::sqrt(total.weight), output_norm = std::sqrt(total.output);
  const double weight_diff = std::sqrt(total.weight_diff);
  const double output_diff = std::sqrt(total.output_diff);
  AccuracyFigures figures;
  figures.weight_rel_err = weight_norm > 0 ? weight_diff / weight_norm : (weight_diff > 0 ? INFINITY : 0);
  figures.output_rel_err = output_norm > 0 ? output_diff / output_norm : (output_diff > 0 ? INFINITY : 0);
  figures.sqnr_db = figures.weight_rel_err > 0 ? -20.0 * std::log10(figures.weight_rel_err)
                                               : std::numeric_limits<double>::infinity();
  return figures;
}

OutputReference::OutputReference(const MatrixF& weights, const MatrixF& activations)
    : activations_(activations.cast<double>()) {
  sums_ = add_in_order(reference_block_sums(weights, activations_));
  weight_norm_ = std::sqrt(sums_.weight);
  output_norm_ = std::sqrt(sums_.output);
}

AccuracyFigures measure_accuracy(const MatrixF& weights, const MatrixF& approximation,
                                 const OutputReference& reference) {
  AccuracySums total = add_in_order(error_block_sums(weights, approximation, reference.activations()));
  total.weight = reference.sums().weight;
  total.output = reference.sums().output;
  return accuracy_from_sums(total);
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
