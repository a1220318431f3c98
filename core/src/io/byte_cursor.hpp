#pragma once
// Bounded little-endian reads over a mapped file. Every read checks the bytes left first, so a header that lies about
// a length or a count fails with "truncated" at the first impossible read instead of reading past the map.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "nmscope/error.hpp"

namespace nmscope::io {

class ByteCursor {
 public:
  ByteCursor(std::span<const std::byte> bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  std::size_t position() const { return position_; }
  std::size_t remaining() const { return bytes_.size() - position_; }

  [[noreturn]] void fail(const std::string& reason) const { throw Error(path_, reason); }

  void require(uint64_t count, const char* what) const {
    if (count > remaining()) {
      fail("truncated: " + std::string(what) + " needs " + std::to_string(count) + " bytes at offset " +
           std::to_string(position_) + ", file has " + std::to_string(remaining()) + " left");
    }
  }

  template <typename Int>
  Int read(const char* what) {
    require(sizeof(Int), what);
    Int value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(Int));  // GGUF and safetensors are little endian, as is x86
    position_ += sizeof(Int);
    return value;
  }

  std::string_view read_bytes(uint64_t count, const char* what) {
    require(count, what);
    std::string_view view(reinterpret_cast<const char*>(bytes_.data()) + position_, count);
    position_ += count;
    return view;
  }

  void skip(uint64_t count, const char* what) {
    require(count, what);
    position_ += count;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& path_;
  std::size_t position_ = 0;
};

}  // namespace nmscope::io
