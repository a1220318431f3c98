#pragma once
// The accuracy sums of one block of rows for every configuration of a study, in one pass: the model study's streamed
// path (study_runner.cpp) measures a layer block by block while the block sits in cache. The figures are those of
// reference_block_sums and error_block_sums over compress + dequantize (metrics.hpp) to the bit: the same rows in the
// same pairs, the same chains of multiply-adds per row (metrics/product_norms.hpp), the error straight from the codes
// (quant/quantization_error_row.hpp). A test holds the two paths to the same bits.
#include <vector>

#include "metrics/product_norms.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

struct SliceConfiguration {
  NMPattern pattern;
  QuantConfig quant;  // not per tensor
};

struct SliceSums {
  AccuracySums reference;           // weight and output
  std::vector<AccuracySums> errors;  // weight_diff and output_diff, one per configuration
  bool finite = true;               // false: the block holds NaN or infinity, and nothing else was computed
};

// `weights`: one block of at most kAccuracyBlockRows rows (the pairs of rows start at its first row, as a block of the
// whole-matrix sums does). Consecutive configurations with the same pattern share one selection.
SliceSums slice_accuracy_sums(const MatrixF& weights, const std::vector<SliceConfiguration>& configurations,
                              PruningCriterion criterion, const VectorF* input_norms, const ColumnMajorD& activations);

}  // namespace nmscope
