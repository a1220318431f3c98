#include "study/slice_accuracy.hpp"

#include <algorithm>
#include <cstring>

#include "nmscope/error.hpp"
#include "quant/quantization_error_row.hpp"

namespace nmscope {

namespace {

// Whether every weight of the block is finite (exponent bits not all ones), without a pass in double.
bool all_finite(const MatrixF& weights) {
  uint32_t non_finite = 0;
  const float* values = weights.data();
  for (int64_t index = 0; index < weights.size(); ++index) {
    uint32_t bits;
    std::memcpy(&bits, values + index, sizeof bits);
    non_finite |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return non_finite == 0;
}

}  // namespace

SliceSums slice_accuracy_sums(const MatrixF& weights, const std::vector<SliceConfiguration>& configurations,
                              PruningCriterion criterion, const VectorF* input_norms, const ColumnMajorD& activations) {
  const int64_t rows = weights.rows(), k = weights.cols();
  if (rows > kAccuracyBlockRows) throw Error("slice_accuracy_sums", "a block has at most 64 rows");
  SliceSums sums;
  sums.errors.resize(configurations.size());
  if (rows == 0) return sums;

  // A block with NaN or infinity is not measured (the caller reports the layer); the whole-matrix path finds the same
  // through its sum of squares, which is finite exactly when every weight is.
  if (!(sums.finite = all_finite(weights))) return sums;
  // A row in double and its squared norm, written as reference_block_sums writes them (an Eigen map over an Eigen
  // vector: the same reduction over the same alignment, so the same bits).
  auto widen = [&](int64_t row, Eigen::VectorXd& out) {
    Eigen::Map<Eigen::VectorXd> mapped(out.data(), k);
    mapped = weights.row(row).transpose().cast<double>();
    return mapped.squaredNorm();
  };

  // One keep mask per run of configurations sharing a pattern.
  struct KeepMask {
    std::vector<uint8_t> bits;
    int64_t row_bytes = 0;
  };
  std::vector<KeepMask> masks;
  std::vector<size_t> mask_of(configurations.size());
  for (size_t index = 0; index < configurations.size(); ++index) {
    if (index == 0 || configurations[index].pattern != configurations[index - 1].pattern) {
      const NMPattern& pattern = configurations[index].pattern;
      masks.push_back({select_nm_bits(weights, pattern, criterion, input_norms), keep_bits_row_bytes(k, pattern)});
    }
    mask_of[index] = masks.size() - 1;
  }

  // Per row pair: the two weight rows, then each configuration's two error rows, each vector's ||X v||^2 with X
  // read once for four of them.
  const size_t vectors = 2 + 2 * configurations.size();
  std::vector<Eigen::VectorXd> buffers(vectors, Eigen::VectorXd(k));
  std::vector<double> norms(vectors), products(vectors, 0.0);
  auto fill_row = [&](int64_t row, size_t slot) {
    norms[slot] = widen(row, buffers[slot]);
    for (size_t index = 0; index < configurations.size(); ++index) {
      const KeepMask& mask = masks[mask_of[index]];
      Eigen::Map<Eigen::VectorXd> difference(buffers[2 + 2 * index + slot].data(), k);
      quantization_error_row(weights.data() + row * k, mask.bits.data() + row * mask.row_bytes, k,
                             configurations[index].quant, difference.data());
      norms[2 + 2 * index + slot] = difference.squaredNorm();
    }
  };
  const bool with_products = activations.rows() > 0;
  int64_t row = 0;
  for (; row + 2 <= rows; row += 2) {
    fill_row(row, 0);
    fill_row(row + 1, 1);
    if (with_products) {
      size_t first = 0;
      for (; first + 4 <= vectors; first += 4) {
        const double* group[4] = {buffers[first].data(), buffers[first + 1].data(), buffers[first + 2].data(),
                                  buffers[first + 3].data()};
        product_squared_norms(activations, group, k, products.data() + first);
      }
      if (first < vectors)
        product_squared_norms(activations, buffers[first].data(), buffers[first + 1].data(), k, products[first],
                              products[first + 1]);
    }
    sums.reference.weight += norms[0];
    sums.reference.weight += norms[1];
    sums.reference.output += products[0];
    sums.reference.output += products[1];
    for (size_t index = 0; index < configurations.size(); ++index) {
      AccuracySums& error = sums.errors[index];
      error.weight_diff += norms[2 + 2 * index];
      error.weight_diff += norms[3 + 2 * index];
      error.output_diff += products[2 + 2 * index];
      error.output_diff += products[3 + 2 * index];
    }
  }
  if (row < rows) {
    // An odd last row alone, with the one-row product (four chains), as sum_rows does.
    fill_row(row, 0);
    sums.reference.weight += norms[0];
    for (size_t index = 0; index < configurations.size(); ++index)
      sums.errors[index].weight_diff += norms[2 + 2 * index];
    if (with_products) {
      sums.reference.output += product_squared_norm(activations, buffers[0].data(), k);
      for (size_t index = 0; index < configurations.size(); ++index)
        sums.errors[index].output_diff += product_squared_norm(activations, buffers[2 + 2 * index].data(), k);
    }
  }
  return sums;
}

}  // namespace nmscope
