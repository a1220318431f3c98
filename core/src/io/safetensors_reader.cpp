// .safetensors reader: u64 little-endian header length, a JSON header, then the data section. Tensors are spans into
// the map (zero copy). Every offset is checked against the data section and against the other tensors.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "io/checked_math.hpp"
#include "io/tensor_description.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

namespace nmscope {

namespace {

// Far beyond any real header (a 2000-tensor model needs ~300 KB) and small enough to parse without fear.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

DType safetensors_dtype(const std::string& name) {
  static const std::map<std::string, DType> types = {
      {"F64", DType::F64},         {"F32", DType::F32},         {"F16", DType::F16},  {"BF16", DType::BF16},
      {"F8_E4M3", DType::F8_E4M3}, {"F8_E5M2", DType::F8_E5M2}, {"I64", DType::I64},  {"I32", DType::I32},
      {"I16", DType::I16},         {"I8", DType::I8},           {"U64", DType::U64},  {"U32", DType::U32},
      {"U16", DType::U16},         {"U8", DType::U8},           {"BOOL", DType::Bool}};
  auto found = types.find(name);
  return found == types.end() ? DType::Unsupported : found->second;
}

}  // namespace

std::vector<RawTensor> read_safetensors(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  const auto bytes = file->bytes();
  if (bytes.size() < 8) throw Error(path, "truncated: shorter than the 8-byte header length");
  uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= static_cast<uint64_t>(std::to_integer<uint8_t>(bytes[i])) << (8 * i);
  if (header_length > bytes.size() - 8) {
    throw Error(path, "truncated: header length " + std::to_string(header_length) + " is beyond the file (" +
                          std::to_string(bytes.size()) + " bytes)");
  }
  if (header_length > kMaxHeaderBytes) {
    throw Error(path, "header length " + std::to_string(header_length) + " exceeds the 100 MB limit");
  }

  const char* header_text = reinterpret_cast<const char*>(bytes.data()) + 8;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text, header_text + header_length);
  } catch (const nlohmann::json::exception& failure) {
    throw Error(path, std::string("header is not valid JSON: ") + failure.what());
  }
  if (!header.is_object()) throw Error(path, "header is not a JSON object");

  const uint64_t data_start = 8 + header_length;
  const uint64_t data_size = bytes.size() - data_start;
  std::vector<RawTensor> tensors;
  for (const auto& item : header.items()) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& name = item.key();
    const nlohmann::json& entry = item.value();
    if (name == "__metadata__") continue;
    auto refuse = [&](const std::string& why) { return Error(path, "tensor '" + name + "': " + why); };
    if (!entry.is_object()) throw refuse("entry is not a JSON object");
    const auto dtype_field = entry.find("dtype");
    const auto shape_field = entry.find("shape");
    const auto offsets_field = entry.find("data_offsets");
    if (dtype_field == entry.end() || !dtype_field->is_string()) throw refuse("missing 'dtype'");
    if (shape_field == entry.end() || !shape_field->is_array()) throw refuse("missing 'shape'");
    if (offsets_field == entry.end() || !offsets_field->is_array() || offsets_field->size() != 2) {
      throw refuse("'data_offsets' must be [begin, end]");
    }

    const std::string type_name = dtype_field->get<std::string>();
    const DType dtype = safetensors_dtype(type_name);
    if (dtype == DType::Unsupported) throw refuse("unknown dtype '" + type_name + "'");

    std::vector<int64_t> shape;
    for (const auto& dim : *shape_field) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        throw refuse("shape must hold non-negative integers");
      }
      shape.push_back(dim.get<int64_t>());
    }
    const auto count = io::checked_element_count(shape);
    const auto expected_bytes = count ? io::checked_mul(*count, dtype_size(dtype)) : std::nullopt;
    if (!expected_bytes) throw refuse("shape is too large (element count overflows)");

    const auto& begin_field = (*offsets_field)[0];
    const auto& end_field = (*offsets_field)[1];
    if (!begin_field.is_number_unsigned() || !end_field.is_number_unsigned()) {
      throw refuse("'data_offsets' must be non-negative integers");
    }
    const uint64_t begin = begin_field.get<uint64_t>(), end = end_field.get<uint64_t>();
    if (begin > end || end > data_size) {
      throw refuse("data offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                   "] are outside the data section (" + std::to_string(data_size) + " bytes; truncated file?)");
    }
    if (end - begin != *expected_bytes) {
      throw refuse("data offsets span " + std::to_string(end - begin) + " bytes, shape and dtype need " +
                   std::to_string(*expected_bytes));
    }

    RawTensor tensor;
    tensor.info = io::describe_tensor(name, dtype, type_name, std::move(shape));
    tensor.bytes = bytes.subspan(data_start + begin, end - begin);
    tensor.file = file;
    tensors.push_back(std::move(tensor));
  }

  // Two tensors sharing bytes would be a header error (or an attempt to make one write look like another).
  std::vector<const RawTensor*> by_offset;
  for (const auto& tensor : tensors) {
    if (!tensor.bytes.empty()) by_offset.push_back(&tensor);  // an empty tensor occupies no bytes
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const RawTensor* a, const RawTensor* b) { return a->bytes.data() < b->bytes.data(); });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const RawTensor& previous = *by_offset[i - 1];
    const RawTensor& current = *by_offset[i];
    if (previous.bytes.data() + previous.bytes.size() > current.bytes.data()) {
      throw Error(path,
                  "tensors '" + previous.info.name + "' and '" + current.info.name + "' overlap in the data section");
    }
  }
  return tensors;
}

}  // namespace nmscope
