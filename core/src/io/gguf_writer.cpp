// .gguf writer: version 3, alignment 32, dimensions stored innermost first (ggml's ne order), so our [N_out, K]
// becomes ne = [K, N_out]. A scalar is written as one element of shape [1]: ggml has no 0-D tensors.
#include <set>

#include "io/tensor_encoding.hpp"
#include "nmscope/error.hpp"
#include "nmscope/writers.hpp"

namespace nmscope {

namespace {

constexpr uint64_t kAlignment = 32;
constexpr uint32_t kTypeString = 8;
constexpr uint32_t kTypeU32 = 4;

uint32_t ggml_type_id(DType dtype, const std::string& path) {
  switch (dtype) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::F64: return 28;
    case DType::BF16: return 30;
    default: throw Error(path, "gguf writer does not produce " + std::string(dtype_name(dtype)));
  }
}

void append_string(std::vector<std::byte>& out, const std::string& text) {
  io::append_le(out, static_cast<uint64_t>(text.size()));
  io::append_text(out, text);
}

void pad_to_alignment(std::vector<std::byte>& out, uint64_t base) {
  while ((base + out.size()) % kAlignment != 0) out.push_back(std::byte{0});
}

}  // namespace

void write_gguf(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  std::vector<std::byte> header;
  io::append_text(header, "GGUF");
  io::append_le(header, uint32_t{3});
  io::append_le(header, static_cast<uint64_t>(tensors.size()));
  io::append_le(header, uint64_t{2});
  append_string(header, "general.architecture");
  io::append_le(header, kTypeString);
  append_string(header, "nmscope");
  append_string(header, "general.alignment");
  io::append_le(header, kTypeU32);
  io::append_le(header, static_cast<uint32_t>(kAlignment));

  std::vector<std::byte> data;
  std::set<std::string> names;
  for (const auto& tensor : tensors) {
    if (!names.insert(tensor.name).second) throw Error(path, "tensor name '" + tensor.name + "' is used twice");
    if (tensor.shape.size() > 4) throw Error(path, "tensor '" + tensor.name + "': gguf holds at most 4 dimensions");
    const uint32_t type = ggml_type_id(tensor.dtype, path);
    const std::vector<int64_t> shape = tensor.shape.empty() ? std::vector<int64_t>{1} : tensor.shape;

    append_string(header, tensor.name);
    io::append_le(header, static_cast<uint32_t>(shape.size()));
    for (auto dim = shape.rbegin(); dim != shape.rend(); ++dim) io::append_le(header, static_cast<uint64_t>(*dim));
    io::append_le(header, type);
    pad_to_alignment(data, 0);
    io::append_le(header, static_cast<uint64_t>(data.size()));
    const auto values = io::encode_values(tensor, path);
    data.insert(data.end(), values.begin(), values.end());
  }
  pad_to_alignment(header, 0);
  io::write_file_atomically(path, {header, data});
}

}  // namespace nmscope
