// .npy reader (format 1.0, 2.0, 3.0; numpy.lib.format). The header is a Python literal dict; it is parsed here by hand,
// strictly: only the three keys numpy writes, a plain numeric dtype, a tuple of non-negative integers.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>

#include "io/checked_math.hpp"
#include "io/tensor_description.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

namespace nmscope {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A cursor over the header text; every failure is reported against the file by the caller.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string("a dictionary key");
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() == '[') fail("structured dtypes (records) are not supported");
        header.descr = parse_string("the 'descr' value");
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        fail("unexpected header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++position_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}' in the header dictionary");
    }
    if (!seen_descr || !seen_order || !seen_shape) fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(path_, "bad .npy header: " + why); }

  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }

  void skip_space() {
    while (position_ < text_.size() && std::strchr(" \t\r\n", text_[position_]) != nullptr) ++position_;
  }

  void expect(char wanted) {
    skip_space();
    if (peek() != wanted) fail(std::string("expected '") + wanted + "'");
    ++position_;
  }

  std::string parse_string(const char* what) {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(std::string("expected a quoted string for ") + what);
    const std::size_t end = text_.find(quote, position_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(position_ + 1, end - position_ - 1));
    position_ = end + 1;
    return value;
  }

  bool parse_bool() {
    skip_space();
    for (auto [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (text_.substr(position_, word.size()) == word) {
        position_ += word.size();
        return value;
      }
    }
    fail("'fortran_order' must be True or False");
  }

  std::vector<int64_t> parse_shape() {
    expect('(');
    std::vector<int64_t> shape;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (shape.size() >= 64) fail("more than 64 dimensions");
      shape.push_back(parse_dimension());
      skip_space();
      if (peek() == ',') {
        ++position_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in 'shape'");
    }
    ++position_;
    return shape;
  }

  int64_t parse_dimension() {
    if (peek() < '0' || peek() > '9') fail("'shape' must hold non-negative integers");
    uint64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      auto next = io::checked_mul(value, 10);
      if (next) next = io::checked_add(*next, static_cast<uint64_t>(peek() - '0'));
      if (!next || *next > static_cast<uint64_t>(INT64_MAX)) fail("a dimension in 'shape' is too large");
      value = *next;
      ++position_;
    }
    if (peek() == 'L') ++position_;  // Python 2 long literal, as old numpy wrote it
    return static_cast<int64_t>(value);
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t position_ = 0;
};

struct NpyType {
  DType dtype;
  bool big_endian;
};

NpyType parse_descr(const std::string& descr, const std::string& path) {
  auto refuse = [&](const std::string& why) -> NpyType { throw Error(path, "dtype '" + descr + "': " + why); };
  if (descr.size() < 2) return refuse("not a numpy type string");
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return refuse("unknown byte order");
  const char kind = descr[1];
  const std::string size = descr.substr(2);
  const bool big_endian = order == '>';
  switch (kind) {
    case 'f':
      if (size == "2") return {DType::F16, big_endian};
      if (size == "4") return {DType::F32, big_endian};
      if (size == "8") return {DType::F64, big_endian};
      return refuse("float of this size is not supported");
    case 'i':
      if (size == "1") return {DType::I8, big_endian};
      if (size == "2") return {DType::I16, big_endian};
      if (size == "4") return {DType::I32, big_endian};
      if (size == "8") return {DType::I64, big_endian};
      return refuse("integer of this size is not supported");
    case 'u':
      if (size == "1") return {DType::U8, big_endian};
      if (size == "2") return {DType::U16, big_endian};
      if (size == "4") return {DType::U32, big_endian};
      if (size == "8") return {DType::U64, big_endian};
      return refuse("unsigned integer of this size is not supported");
    case 'b':
      if (size == "1") return {DType::Bool, big_endian};
      return refuse("bool of this size is not supported");
    case 'c': return refuse("complex arrays are not supported");
    case 'O': return refuse("object arrays are not supported (they hold pickled Python objects)");
    default: return refuse("not a numeric type");
  }
}

template <typename Int>
Int read_le(const std::byte* p) {
  Int value = 0;
  for (std::size_t i = 0; i < sizeof(Int); ++i) value |= static_cast<Int>(std::to_integer<uint8_t>(p[i])) << (8 * i);
  return value;
}

}  // namespace

std::vector<RawTensor> read_npy(std::shared_ptr<const MappedFile> file, const std::string& tensor_name) {
  const std::string& path = file->path();
  const auto bytes = file->bytes();
  const std::size_t magic_bytes = std::min(bytes.size(), kMagic.size());
  if (bytes.empty() || std::memcmp(bytes.data(), kMagic.data(), magic_bytes) != 0) {
    throw Error(path, "not a .npy file (bad magic)");
  }
  if (bytes.size() < 10)
    throw Error(path, "truncated: " + std::to_string(bytes.size()) + " bytes, shorter than any .npy header");
  const int major = std::to_integer<int>(bytes[6]);
  const int minor = std::to_integer<int>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    throw Error(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  const std::size_t length_field = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_field) throw Error(path, "truncated: header length missing");
  const uint64_t header_length = major == 1 ? read_le<uint16_t>(&bytes[8]) : read_le<uint32_t>(&bytes[8]);
  const uint64_t header_start = 8 + length_field;
  if (header_length > bytes.size() - header_start) {
    throw Error(path, "truncated: header declares " + std::to_string(header_length) + " bytes of header, file has " +
                          std::to_string(bytes.size() - header_start));
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data()) + header_start, header_length);
  const NpyHeader header = HeaderParser(header_text, path).parse();
  const NpyType type = parse_descr(header.descr, path);

  const auto count = io::checked_element_count(header.shape);
  const auto data_bytes = count ? io::checked_mul(*count, dtype_size(type.dtype)) : std::nullopt;
  if (!data_bytes) throw Error(path, "shape is too large (element count overflows)");
  const uint64_t data_start = header_start + header_length;
  const uint64_t available = bytes.size() - data_start;
  if (*data_bytes > available) {
    throw Error(path, "truncated: header declares " + std::to_string(*data_bytes) + " bytes of data, file has " +
                          std::to_string(available));
  }
  if (*data_bytes < available) {
    throw Error(path, "header declares " + std::to_string(*data_bytes) + " bytes of data, file has " +
                          std::to_string(available) + " (shape or dtype does not match the data)");
  }

  RawTensor tensor;
  tensor.info = io::describe_tensor(tensor_name, type.dtype, header.descr, header.shape);
  tensor.bytes = bytes.subspan(data_start, *data_bytes);
  tensor.big_endian = type.big_endian;
  tensor.column_major = header.fortran_order && header.shape.size() > 1;
  tensor.file = std::move(file);
  return {std::move(tensor)};
}

MatrixF read_npy_matrix(const std::string& path) {
  auto file = MappedFile::open(path);
  auto tensors = read_npy(file, std::filesystem::path(path).stem().string());
  return decode_matrix(tensors.front());
}

}  // namespace nmscope
