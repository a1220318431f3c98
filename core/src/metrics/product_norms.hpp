#pragma once
// ||X v||^2 for rows v of K doubles, X the evaluation activations kept column-major: the inner loop of every output
// error figure (metrics.hpp). Shared by the whole-matrix sums in metrics.cpp and the streamed slice figures of a model
// study (study/slice_accuracy.cpp), which must give the same bits.
#include <cstdint>

#include <Eigen/Core>

namespace nmscope {

using ColumnMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// One row alone (four chains of multiply-adds): an odd last row of a block.
double product_squared_norm(const ColumnMajorD& activations, const double* row, int64_t k);
// Two rows read X once (two chains per row): the rows of a block in pairs.
void product_squared_norms(const ColumnMajorD& activations, const double* a, const double* b, int64_t k,
                           double& squared_a, double& squared_b);
// Four rows read X once, each with the same two chains as in a pair, so each figure is the pair version's to the bit.
void product_squared_norms(const ColumnMajorD& activations, const double* const* rows, int64_t k, double* squared);

}  // namespace nmscope
