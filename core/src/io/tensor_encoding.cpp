#include "io/tensor_encoding.hpp"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/checked_math.hpp"
#include "nmscope/half.hpp"
#include "nmscope/error.hpp"

namespace nmscope {

TensorToWrite tensor_from_matrix(const std::string& name, const MatrixF& matrix, DType dtype) {
  TensorToWrite tensor;
  tensor.name = name;
  tensor.dtype = dtype;
  tensor.shape = {matrix.rows(), matrix.cols()};
  tensor.values.assign(matrix.data(), matrix.data() + matrix.size());  // MatrixF is row-major: already C order
  return tensor;
}

namespace io {

std::vector<std::byte> encode_values(const TensorToWrite& tensor, const std::string& path) {
  const auto count = checked_element_count(tensor.shape);
  if (!count || *count != tensor.values.size()) {
    throw Error(path, "tensor '" + tensor.name + "': shape does not match its " + std::to_string(tensor.values.size()) +
                          " values");
  }
  std::vector<std::byte> out;
  out.reserve(tensor.values.size() * dtype_size(tensor.dtype));
  switch (tensor.dtype) {
    case DType::F32:
      for (float value : tensor.values) append_le(out, std::bit_cast<uint32_t>(value));
      break;
    case DType::F64:
      for (float value : tensor.values) append_le(out, std::bit_cast<uint64_t>(static_cast<double>(value)));
      break;
    case DType::F16:
      for (float value : tensor.values) append_le(out, float_to_half_bits(value));
      break;
    case DType::BF16:
      for (float value : tensor.values) append_le(out, float_to_bf16_bits(value));
      break;
    default:
      throw Error(path, "tensor '" + tensor.name + "': writers produce F32, F16, BF16 or F64, not " +
                            std::string(dtype_name(tensor.dtype)));
  }
  return out;
}

void write_file_atomically(const std::string& path, const std::vector<std::vector<std::byte>>& parts) {
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) throw Error(path, std::string("cannot be written: ") + std::strerror(errno));
  bool ok = true;
  for (const auto& part : parts) {
    if (!part.empty() && std::fwrite(part.data(), 1, part.size(), file) != part.size()) ok = false;
  }
  const int write_error = errno;
  if (std::fclose(file) != 0) ok = false;
  if (!ok) {
    std::remove(temporary.c_str());
    throw Error(path, std::string("write failed: ") + std::strerror(write_error));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw Error(path, "cannot be replaced: " + error.message());
  }
}

}  // namespace io
}  // namespace nmscope
