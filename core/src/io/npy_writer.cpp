// .npy writer: format 1.0 (2.0 when the header outgrows a u16), header padded so data starts on a 64-byte boundary
// as numpy itself does.
#include <filesystem>

#include "io/tensor_encoding.hpp"
#include "nmscope/error.hpp"
#include "nmscope/writers.hpp"

namespace nmscope {

namespace {

std::string npy_descr(DType dtype, const std::string& path) {
  switch (dtype) {
    case DType::F32: return "<f4";
    case DType::F16: return "<f2";
    case DType::F64: return "<f8";
    default: throw Error(path, "npy cannot hold " + std::string(dtype_name(dtype)) + " (numpy has no such type)");
  }
}

}  // namespace

void write_npy(const std::string& path, const TensorToWrite& tensor) {
  std::string shape = "(";
  for (int64_t dim : tensor.shape) shape += std::to_string(dim) + ", ";
  if (tensor.shape.size() == 1)
    shape.pop_back();  // "(5,)", Python's one-tuple
  else if (!tensor.shape.empty())
    shape.resize(shape.size() - 2);
  shape += ")";
  std::string header =
      "{'descr': '" + npy_descr(tensor.dtype, path) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  std::vector<std::byte> data = io::encode_values(tensor, path);

  const bool version1 = header.size() + 1 + 10 <= 65535 + 10;
  const std::size_t prefix = version1 ? 10 : 12;
  const std::size_t padded = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(padded - prefix - header.size() - 1, ' ');
  header += '\n';

  std::vector<std::byte> head;
  io::append_text(head, "\x93NUMPY");
  head.push_back(std::byte{static_cast<unsigned char>(version1 ? 1 : 2)});
  head.push_back(std::byte{0});
  if (version1)
    io::append_le(head, static_cast<uint16_t>(header.size()));
  else
    io::append_le(head, static_cast<uint32_t>(header.size()));
  io::append_text(head, header);
  io::write_file_atomically(path, {head, data});
}

}  // namespace nmscope
