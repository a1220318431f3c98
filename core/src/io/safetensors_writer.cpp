// .safetensors writer: tensors laid out in the given order; the JSON header is space-padded to a multiple of 8 so the
// data section stays 8-byte aligned, as the reference implementation does.
#include <nlohmann/json.hpp>
#include <set>

#include "io/tensor_encoding.hpp"
#include "nmscope/error.hpp"
#include "nmscope/writers.hpp"

namespace nmscope {

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::vector<std::vector<std::byte>> parts(1);
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    if (tensor.name == "__metadata__" || !names.insert(tensor.name).second) {
      throw Error(path, "tensor name '" + tensor.name + "' is reserved or used twice");
    }
    parts.push_back(io::encode_values(tensor, path));
    const uint64_t size = parts.back().size();
    header[tensor.name] = {{"dtype", std::string(dtype_name(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  io::append_le(parts[0], static_cast<uint64_t>(text.size()));
  io::append_text(parts[0], text);
  io::write_file_atomically(path, parts);
}

}  // namespace nmscope
