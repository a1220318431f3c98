#include "io/tensor_description.hpp"

#include <algorithm>

namespace nmscope::io {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace

TensorInfo describe_tensor(std::string name, DType dtype, std::string stored_type, std::vector<int64_t> shape) {
  TensorInfo info;
  info.name = std::move(name);
  info.dtype = dtype;
  info.stored_type = std::move(stored_type);
  info.shape = std::move(shape);
  const auto& dims = info.shape;

  if (dtype == DType::Unsupported) {
    info.note = "type " + info.stored_type + " is not supported (listed only, not decoded)";
  } else if (dims.empty()) {
    info.note = "scalar";
  } else if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
    info.note = "empty";
  } else if (dims.size() == 1) {
    info.note = "vector (1-D): not pruned";
  } else {
    info.is_matrix = true;
    if (dims.size() > 2) {
      std::string leading;
      for (std::size_t i = 0; i + 1 < dims.size(); ++i) {
        if (i != 0) leading += '*';
        leading += std::to_string(dims[i]);
      }
      info.note = "folded " + shape_text(dims) + " to [" + leading + ", " + std::to_string(dims.back()) + "]";
    }
  }
  return info;
}

}  // namespace nmscope::io

namespace nmscope {

// rows/cols follow the folding rule for every rank, so a vector decodes as one row and a scalar as 1x1.
int64_t TensorInfo::rows() const {
  int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  return rows;
}

int64_t TensorInfo::cols() const { return shape.empty() ? 1 : shape.back(); }

int64_t TensorInfo::element_count() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

}  // namespace nmscope
