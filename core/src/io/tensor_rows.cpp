#include "io/tensor_rows.hpp"

#include "nmscope/error.hpp"

namespace nmscope::io {

void check_row_range(const std::string& name, int64_t first, int64_t count, int64_t rows) {
  if (first < 0 || count < 0 || first > rows || count > rows - first) {
    throw Error(name, "rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") are outside its " +
                          std::to_string(rows) + " rows");
  }
}

std::optional<RawTensor> contiguous_rows(const RawTensor& tensor, int64_t first, int64_t count) {
  const DTypeBlock block = dtype_block(tensor.info.dtype);
  if (tensor.column_major || block.elements == 0) return std::nullopt;
  check_row_range(tensor.info.name, first, count, tensor.info.rows());
  const std::size_t row_bytes = static_cast<std::size_t>(tensor.info.cols()) / block.elements * block.bytes;
  RawTensor part = tensor;
  part.info.shape = {count, tensor.info.cols()};
  part.bytes =
      tensor.bytes.subspan(static_cast<std::size_t>(first) * row_bytes, static_cast<std::size_t>(count) * row_bytes);
  return part;
}

}  // namespace nmscope::io
