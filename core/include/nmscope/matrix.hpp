#pragma once
// Dense matrices as the pipeline sees them: W is [out_features, in_features] = [N_out, K], row-major, as in
// PyTorch nn.Linear, and y = x W^T (docs/conventions.md).
#include <Eigen/Core>

namespace nmscope {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorF = Eigen::VectorXf;
using VectorD = Eigen::VectorXd;

}  // namespace nmscope
