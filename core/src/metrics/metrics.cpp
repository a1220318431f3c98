#include "nmscope/metrics.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "metrics/product_norms.hpp"
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

// ||X v||^2 for one row v of K doubles. X is kept column-major (the T values of one column next to each other), so
// X v is a sum over k of column k times v[k]: for the usual T = 16 tokens that is two AVX-512 multiply-adds per weight
// into four independent sets of accumulators, where a general matrix product first packed a 64 x K double copy of
// every block (perf: a quarter of a model study's time). Other token counts use Eigen's matrix-vector product.
double product_squared_norm(const ColumnMajorD& activations, const double* row, int64_t k) {
  constexpr int kTokens = int(kSyntheticEvalTokens);
  if (activations.rows() != kTokens) {
    const Eigen::VectorXd product = activations * Eigen::Map<const Eigen::VectorXd>(row, k);
    return product.squaredNorm();
  }
  // Two 8-double vectors hold the 16 token outputs; four pairs of them are independent chains of multiply-adds.
  using Vector8 = double __attribute__((vector_size(64)));
  auto load = [](const double* at) {
    Vector8 value;
    std::memcpy(&value, at, sizeof value);
    return value;
  };
  Vector8 low[4] = {}, high[4] = {};
  const double* columns = activations.data();
  int64_t col = 0;
  for (; col + 4 <= k; col += 4)
    for (int lane = 0; lane < 4; ++lane) {
      const double* column = columns + (col + lane) * kTokens;
      low[lane] += load(column) * row[col + lane];
      high[lane] += load(column + 8) * row[col + lane];
    }
  for (; col < k; ++col) {
    low[0] += load(columns + col * kTokens) * row[col];
    high[0] += load(columns + col * kTokens + 8) * row[col];
  }
  const Vector8 sum_low = (low[0] + low[1]) + (low[2] + low[3]);
  const Vector8 sum_high = (high[0] + high[1]) + (high[2] + high[3]);
  double squared = 0;
  for (int token = 0; token < 8; ++token) squared += sum_low[token] * sum_low[token];
  for (int token = 0; token < 8; ++token) squared += sum_high[token] * sum_high[token];
  return squared;
}

namespace {

// ||X v||^2 for kRows rows at once: X (1.4 MB for K = 11008) is read from L2 once for all of them, which is what
// bounds a one-row loop. Each row has its own two chains of accumulators (even and odd columns), whatever kRows is,
// so a row's figure is the same bits alone in a pair or beside three others.
template <int kRows>
void product_squared_norms_of(const ColumnMajorD& activations, const double* const* rows, int64_t k, double* squared) {
  constexpr int kTokens = int(kSyntheticEvalTokens);
  if (activations.rows() != kTokens) {
    for (int row = 0; row < kRows; ++row) squared[row] = product_squared_norm(activations, rows[row], k);
    return;
  }
  using Vector8 = double __attribute__((vector_size(64)));
  auto load = [](const double* at) {
    Vector8 value;
    std::memcpy(&value, at, sizeof value);
    return value;
  };
  Vector8 low[kRows][2] = {}, high[kRows][2] = {};
  const double* columns = activations.data();
  int64_t col = 0;
  for (; col + 2 <= k; col += 2)
    for (int lane = 0; lane < 2; ++lane) {
      const Vector8 x_low = load(columns + (col + lane) * kTokens), x_high = load(columns + (col + lane) * kTokens + 8);
      for (int row = 0; row < kRows; ++row) {
        low[row][lane] += x_low * rows[row][col + lane];
        high[row][lane] += x_high * rows[row][col + lane];
      }
    }
  for (; col < k; ++col) {
    const Vector8 x_low = load(columns + col * kTokens), x_high = load(columns + col * kTokens + 8);
    for (int row = 0; row < kRows; ++row) {
      low[row][0] += x_low * rows[row][col];
      high[row][0] += x_high * rows[row][col];
    }
  }
  for (int row = 0; row < kRows; ++row) {
    const Vector8 sum_low = low[row][0] + low[row][1], sum_high = high[row][0] + high[row][1];
    double sum = 0;
    for (int token = 0; token < 8; ++token) sum += sum_low[token] * sum_low[token];
    for (int token = 0; token < 8; ++token) sum += sum_high[token] * sum_high[token];
    squared[row] = sum;
  }
}

}  // namespace

void product_squared_norms(const ColumnMajorD& activations, const double* a, const double* b, int64_t k,
                           double& squared_a, double& squared_b) {
  const double* rows[2] = {a, b};
  double squared[2];
  product_squared_norms_of<2>(activations, rows, k, squared);
  squared_a = squared[0];
  squared_b = squared[1];
}

void product_squared_norms(const ColumnMajorD& activations, const double* const* rows, int64_t k, double* squared) {
  product_squared_norms_of<4>(activations, rows, k, squared);
}

// Rows in pairs (an odd last row alone); `make_row(index, out)` writes row `index` as K doubles and returns its
// squared norm. Adds sum ||row||^2 to `row_sum` and sum ||X row||^2 to `product_sum`, in row order.
template <typename MakeRow>
void sum_rows(const ColumnMajorD& activations, int64_t first, int64_t count, int64_t k, MakeRow&& make_row,
              double& row_sum, double& product_sum) {
  Eigen::VectorXd a(k), b(k);
  int64_t index = first;
  for (; index + 2 <= first + count; index += 2) {
    row_sum += make_row(index, a.data());
    row_sum += make_row(index + 1, b.data());
    if (activations.rows() == 0) continue;
    double squared_a = 0, squared_b = 0;
    product_squared_norms(activations, a.data(), b.data(), k, squared_a, squared_b);
    product_sum += squared_a;
    product_sum += squared_b;
  }
  if (index < first + count) {
    row_sum += make_row(index, a.data());
    if (activations.rows() > 0) product_sum += product_squared_norm(activations, a.data(), k);
  }
}

std::vector<AccuracySums> reference_block_sums(const MatrixF& weights, const MatrixD& activations) {
  const ColumnMajorD columns = activations;
  const int64_t k = weights.cols();
  return over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    AccuracySums sums;
    sum_rows(columns, first, count, k,
             [&](int64_t index, double* out) {
               Eigen::Map<Eigen::VectorXd> row(out, k);
               row = weights.row(index).transpose().cast<double>();
               return row.squaredNorm();
             },
             sums.weight, sums.output);
    return sums;
  });
}

std::vector<AccuracySums> error_block_sums(const MatrixF& weights, const MatrixF& approximation,
                                           const MatrixD& activations) {
  const ColumnMajorD columns = activations;
  const int64_t k = weights.cols();
  return over_blocks(weights.rows(), [&](int64_t first, int64_t count) {
    AccuracySums sums;
    sum_rows(columns, first, count, k,
             [&](int64_t index, double* out) {
               Eigen::Map<Eigen::VectorXd> difference(out, k);
               difference =
                   approximation.row(index).transpose().cast<double>() - weights.row(index).transpose().cast<double>();
               return difference.squaredNorm();
             },
             sums.weight_diff, sums.output_diff);
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
