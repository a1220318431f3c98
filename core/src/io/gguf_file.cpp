// .gguf reader (versions 2 and 3, little endian; the spec is ggml's docs/gguf.md). Metadata is kept when the caller
// asks (a model file's architecture and tokenizer) and otherwise walked only to find general.alignment; every count is
// checked against the bytes left before it drives a loop, so a hostile header is refused in constant memory and time
// proportional to the file.
#include "io/gguf_file.hpp"

#include <algorithm>
#include <optional>

#include "io/byte_cursor.hpp"
#include "io/checked_math.hpp"
#include "io/tensor_description.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

namespace nmscope {

namespace {

// clang-format off
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9, U64 = 10, I64 = 11,
  F64 = 12,
};
// clang-format on

constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
// Smallest possible encodings, used to refuse counts the remaining bytes cannot hold.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;        // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset
constexpr uint64_t kStringHeaderBytes = 8;
constexpr uint64_t kArrayHeaderBytes = 4 + 8;
// Arrays kept as values at most this long (a vocabulary of 262k tokens and its merges fit; ~100 bytes a value): a
// hostile file's 10^9-element array is skipped, not materialized, and a key that needs it reads as absent.
constexpr uint64_t kMaxKeptArrayItems = uint64_t{1} << 20;

std::optional<uint64_t> fixed_value_size(uint32_t type) {
  switch (static_cast<ValueType>(type)) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::Bool:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
      return 8;
    default:
      return std::nullopt;
  }
}

struct GgmlType {
  const char* name;
  DType dtype;  // Unsupported for the block types nmscope does not decode (IQ*, TQ*, MXFP4, Q8_1, Q8_K)
  uint64_t block_elements;
  uint64_t block_bytes;
};

// Block sizes from ggml's type_traits; 0 where a type id is unknown (then only the offset can be checked).
GgmlType ggml_type(uint32_t id) {
  switch (id) {
    case 0:
      return {"F32", DType::F32, 1, 4};
    case 1:
      return {"F16", DType::F16, 1, 2};
    case 2:
      return {"Q4_0", DType::Q4_0, 32, 18};
    case 3:
      return {"Q4_1", DType::Q4_1, 32, 20};
    case 6:
      return {"Q5_0", DType::Q5_0, 32, 22};
    case 7:
      return {"Q5_1", DType::Q5_1, 32, 24};
    case 8:
      return {"Q8_0", DType::Q8_0, 32, 34};
    case 9:
      return {"Q8_1", DType::Unsupported, 32, 36};
    case 10:
      return {"Q2_K", DType::Q2_K, 256, 84};
    case 11:
      return {"Q3_K", DType::Q3_K, 256, 110};
    case 12:
      return {"Q4_K", DType::Q4_K, 256, 144};
    case 13:
      return {"Q5_K", DType::Q5_K, 256, 176};
    case 14:
      return {"Q6_K", DType::Q6_K, 256, 210};
    case 15:
      return {"Q8_K", DType::Unsupported, 256, 292};
    case 16:
      return {"IQ2_XXS", DType::Unsupported, 256, 66};
    case 17:
      return {"IQ2_XS", DType::Unsupported, 256, 74};
    case 18:
      return {"IQ3_XXS", DType::Unsupported, 256, 98};
    case 19:
      return {"IQ1_S", DType::Unsupported, 256, 50};
    case 20:
      return {"IQ4_NL", DType::Unsupported, 32, 18};
    case 21:
      return {"IQ3_S", DType::Unsupported, 256, 110};
    case 22:
      return {"IQ2_S", DType::Unsupported, 256, 82};
    case 23:
      return {"IQ4_XS", DType::Unsupported, 256, 136};
    case 24:
      return {"I8", DType::I8, 1, 1};
    case 25:
      return {"I16", DType::I16, 1, 2};
    case 26:
      return {"I32", DType::I32, 1, 4};
    case 27:
      return {"I64", DType::I64, 1, 8};
    case 28:
      return {"F64", DType::F64, 1, 8};
    case 29:
      return {"IQ1_M", DType::Unsupported, 256, 56};
    case 30:
      return {"BF16", DType::BF16, 1, 2};
    case 34:
      return {"TQ1_0", DType::Unsupported, 256, 54};
    case 35:
      return {"TQ2_0", DType::Unsupported, 256, 66};
    case 39:
      return {"MXFP4", DType::Unsupported, 32, 17};
    default:
      return {nullptr, DType::Unsupported, 0, 0};
  }
}

std::string_view read_string(io::ByteCursor& cursor, const char* what) {
  const uint64_t length = cursor.read<uint64_t>(what);
  return cursor.read_bytes(length, what);
}

io::GgufValue fixed_value(io::ByteCursor& cursor, uint32_t type) {
  io::GgufValue value;
  using Kind = io::GgufValue::Kind;
  auto as_unsigned = [&](uint64_t number) {
    value.kind = Kind::Unsigned;
    value.unsigned_integer = number;
  };
  auto as_integer = [&](int64_t number) {
    value.kind = Kind::Integer;
    value.integer = number;
  };
  auto as_float = [&](double number) {
    value.kind = Kind::Float;
    value.number = number;
  };
  switch (static_cast<ValueType>(type)) {
    case ValueType::U8:
      as_unsigned(cursor.read<uint8_t>("a u8"));
      break;
    case ValueType::U16:
      as_unsigned(cursor.read<uint16_t>("a u16"));
      break;
    case ValueType::U32:
      as_unsigned(cursor.read<uint32_t>("a u32"));
      break;
    case ValueType::U64:
      as_unsigned(cursor.read<uint64_t>("a u64"));
      break;
    case ValueType::I8:
      as_integer(cursor.read<int8_t>("an i8"));
      break;
    case ValueType::I16:
      as_integer(cursor.read<int16_t>("an i16"));
      break;
    case ValueType::I32:
      as_integer(cursor.read<int32_t>("an i32"));
      break;
    case ValueType::I64:
      as_integer(cursor.read<int64_t>("an i64"));
      break;
    case ValueType::F32:
      as_float(cursor.read<float>("an f32"));
      break;
    case ValueType::F64:
      as_float(cursor.read<double>("an f64"));
      break;
    case ValueType::Bool:
      value.kind = Kind::Bool;
      value.flag = cursor.read<uint8_t>("a bool") != 0;
      break;
    default:
      cursor.fail("unknown metadata value type " + std::to_string(type));
  }
  return value;
}

// Reads (keep = true) or skips one value; arrays recurse with the same bounds checks either way.
io::GgufValue read_value(io::ByteCursor& cursor, uint32_t type, int depth, bool keep) {
  io::GgufValue value;
  if (fixed_value_size(type)) {
    if (keep) return fixed_value(cursor, type);
    cursor.skip(*fixed_value_size(type), "a metadata value");
    return value;
  }
  if (type == static_cast<uint32_t>(ValueType::String)) {
    const std::string_view text = read_string(cursor, "a metadata string");
    if (keep) {
      value.kind = io::GgufValue::Kind::String;
      value.text = std::string(text);
    }
    return value;
  }
  if (type != static_cast<uint32_t>(ValueType::Array))
    cursor.fail("unknown metadata value type " + std::to_string(type));
  if (depth >= kMaxArrayDepth) cursor.fail("metadata arrays nested deeper than " + std::to_string(kMaxArrayDepth));

  const uint32_t element_type = cursor.read<uint32_t>("a metadata array type");
  const uint64_t count = cursor.read<uint64_t>("a metadata array length");
  value.kind = io::GgufValue::Kind::Array;
  if (keep && count > kMaxKeptArrayItems) {
    keep = false;
    value.kept = false;
  }
  if (auto size = fixed_value_size(element_type)) {
    const auto total = io::checked_mul(count, *size);
    if (!total) cursor.fail("metadata array of " + std::to_string(count) + " elements is too large");
    cursor.require(*total, "a metadata array");
    if (!keep) {
      cursor.skip(*total, "a metadata array");
      return value;
    }
  } else {
    const uint64_t minimum_element =
        element_type == static_cast<uint32_t>(ValueType::String) ? kStringHeaderBytes : kArrayHeaderBytes;
    if (count > cursor.remaining() / minimum_element) {
      cursor.fail("truncated: metadata array declares " + std::to_string(count) +
                  " elements, the file cannot hold them");
    }
  }
  if (keep) value.items.reserve(count);  // bounded above by the bytes left
  for (uint64_t i = 0; i < count; ++i) {
    io::GgufValue item = read_value(cursor, element_type, depth + 1, keep);
    if (keep) value.items.push_back(std::move(item));
  }
  return value;
}

}  // namespace

namespace io {

GgufFile parse_gguf(std::shared_ptr<const MappedFile> file, bool keep_metadata) {
  const std::string& path = file->path();
  ByteCursor cursor(file->bytes(), path);
  const std::string_view magic = cursor.read_bytes(std::min<std::size_t>(4, file->size()), "the magic");
  if (magic.empty() || std::string_view("GGUF").substr(0, magic.size()) != magic) {
    throw Error(path, "not a GGUF file (bad magic)");
  }
  if (magic.size() < 4) throw Error(path, "truncated: shorter than the GGUF magic");
  const uint32_t version = cursor.read<uint32_t>("the version");
  if (version != 2 && version != 3) {
    const uint32_t swapped = __builtin_bswap32(version);
    if (swapped == 2 || swapped == 3) throw Error(path, "big-endian GGUF is not supported");
    throw Error(path, "unsupported GGUF version " + std::to_string(version));
  }
  const uint64_t tensor_count = cursor.read<uint64_t>("the tensor count");
  const uint64_t kv_count = cursor.read<uint64_t>("the metadata count");
  if (kv_count > cursor.remaining() / kMinKeyValueBytes) {
    throw Error(path, "truncated: header declares " + std::to_string(kv_count) +
                          " metadata entries, the file cannot hold them");
  }

  uint32_t alignment = kDefaultAlignment;
  std::map<std::string, GgufValue> metadata;
  for (uint64_t i = 0; i < kv_count; ++i) {
    const std::string_view key = read_string(cursor, "a metadata key");
    const uint32_t type = cursor.read<uint32_t>("a metadata value type");
    if (key == "general.alignment") {
      if (type != static_cast<uint32_t>(ValueType::U32)) throw Error(path, "general.alignment must be a u32");
      alignment = cursor.read<uint32_t>("general.alignment");
      if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        throw Error(path, "general.alignment " + std::to_string(alignment) + " is not a power of two");
      }
    } else {
      GgufValue value = read_value(cursor, type, 0, keep_metadata);
      if (keep_metadata && value.kept) metadata.insert_or_assign(std::string(key), std::move(value));
    }
  }

  if (tensor_count > cursor.remaining() / kMinTensorInfoBytes) {
    throw Error(path,
                "truncated: header declares " + std::to_string(tensor_count) + " tensors, the file cannot hold them");
  }
  struct Declared {
    std::string name;
    std::vector<int64_t> shape;
    uint32_t type;
    uint64_t offset;
  };
  std::vector<Declared> declared;
  declared.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    Declared tensor;
    tensor.name = std::string(read_string(cursor, "a tensor name"));
    const uint32_t n_dims = cursor.read<uint32_t>("a tensor's dimension count");
    if (n_dims > kMaxDims) {
      throw Error(path, "tensor '" + tensor.name + "' has " + std::to_string(n_dims) + " dimensions (at most 4)");
    }
    tensor.shape.resize(n_dims);
    // ne[0] is the innermost (fastest) dimension: stored in reverse of PyTorch order.
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t extent = cursor.read<uint64_t>("a tensor dimension");
      if (extent > static_cast<uint64_t>(INT64_MAX))
        throw Error(path, "tensor '" + tensor.name + "' has a negative dimension");
      tensor.shape[n_dims - 1 - d] = static_cast<int64_t>(extent);
    }
    tensor.type = cursor.read<uint32_t>("a tensor type");
    tensor.offset = cursor.read<uint64_t>("a tensor offset");
    declared.push_back(std::move(tensor));
  }

  const auto data_start = checked_add(cursor.position(), alignment - 1);
  const uint64_t aligned_start = data_start ? *data_start / alignment * alignment : UINT64_MAX;
  if (!declared.empty() && aligned_start > file->size())
    throw Error(path, "truncated: no data section after the header");

  std::vector<RawTensor> tensors;
  tensors.reserve(declared.size());
  for (auto& tensor : declared) {
    auto refuse = [&](const std::string& why) { return Error(path, "tensor '" + tensor.name + "': " + why); };
    const GgmlType type = ggml_type(tensor.type);
    const std::string type_name = type.name ? type.name : "ggml type " + std::to_string(tensor.type);

    const auto count = checked_element_count(tensor.shape);
    if (!count) throw refuse("shape is too large (element count overflows)");
    std::optional<uint64_t> byte_count = 0;
    if (type.block_elements != 0) {
      const uint64_t row_elements = tensor.shape.empty() ? 1 : static_cast<uint64_t>(tensor.shape.back());
      if (row_elements % type.block_elements != 0) {
        throw refuse("innermost dimension " + std::to_string(row_elements) + " is not a multiple of the " + type_name +
                     " block size " + std::to_string(type.block_elements));
      }
      byte_count = checked_mul(*count / type.block_elements, type.block_bytes);
      if (!byte_count) throw refuse("shape is too large (byte count overflows)");
    }
    if (tensor.offset % alignment != 0) {
      throw refuse("offset " + std::to_string(tensor.offset) + " is not a multiple of the alignment " +
                   std::to_string(alignment));
    }
    const uint64_t data_size = file->size() - aligned_start;
    const auto end = checked_add(tensor.offset, *byte_count);
    if (!end || *end > data_size) {
      throw refuse("data [" + std::to_string(tensor.offset) + ", +" + std::to_string(*byte_count) +
                   ") is outside the data section (" + std::to_string(data_size) + " bytes; truncated file?)");
    }

    RawTensor raw;
    raw.info = describe_tensor(std::move(tensor.name), type.dtype, type_name, std::move(tensor.shape));
    if (type.dtype == DType::Unsupported) {
      raw.info.note = type.name ? "quantized GGUF type " + type_name + " is listed, not decoded"
                                : "unknown GGUF " + type_name + " is listed, not decoded";
    } else if (dtype_is_block_quantized(type.dtype) && raw.info.is_matrix) {
      // Re-quantizing weights that were already quantized is a different question from quantizing the originals.
      raw.info.note = "stored quantized as " + type_name + ": decoded values, not the original weights";
    }
    raw.bytes = file->bytes().subspan(aligned_start + tensor.offset, *byte_count);
    raw.file = file;
    tensors.push_back(std::move(raw));
  }
  return {GgufMetadata(path, std::move(metadata)), std::move(tensors)};
}

}  // namespace io

std::vector<RawTensor> read_gguf(std::shared_ptr<const MappedFile> file) {
  return io::parse_gguf(std::move(file), false).tensors;
}

}  // namespace nmscope
