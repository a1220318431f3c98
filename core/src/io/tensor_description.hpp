#pragma once
// The one folding rule every reader applies, so a tensor is a matrix (or not) for the same reason in every format.
#include <string>
#include <vector>

#include "nmscope/weight_source.hpp"

namespace nmscope::io {

// 2-D: a matrix. >2-D: a matrix folded to [prod(leading dims), last dim]. 1-D, 0-D, empty or an undecodable dtype:
// listed, not a matrix, with the reason in `note`. The shape must already be validated (non-negative, no overflow).
TensorInfo describe_tensor(std::string name, DType dtype, std::string stored_type, std::vector<int64_t> shape);

}  // namespace nmscope::io
