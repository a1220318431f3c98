#pragma once
// What every writer shares: a tensor's values encoded as little-endian bytes of its dtype, and the write-then-rename
// that keeps a half-written file from ever appearing under the target name.
#include <cstddef>
#include <string>
#include <vector>

#include "nmscope/writers.hpp"

namespace nmscope::io {

// Throws Error(path, ...) when the dtype is not one the writers produce or the shape does not match the values.
std::vector<std::byte> encode_values(const TensorToWrite& tensor, const std::string& path);

// Writes the concatenation of `parts` to path + ".tmp", then renames it over `path`.
void write_file_atomically(const std::string& path, const std::vector<std::vector<std::byte>>& parts);

template <typename Int>
void append_le(std::vector<std::byte>& out, Int value) {
  for (std::size_t i = 0; i < sizeof(Int); ++i)
    out.push_back(static_cast<std::byte>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff));
}

inline void append_text(std::vector<std::byte>& out, const std::string& text) {
  for (char c : text) out.push_back(static_cast<std::byte>(c));
}

}  // namespace nmscope::io
