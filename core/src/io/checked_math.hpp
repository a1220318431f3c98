#pragma once
// Sizes declared by a file are hostile until proven otherwise: every product or sum of them goes through these,
// so an overflow becomes a refusal instead of a small allocation followed by an out-of-bounds read.
#include <cstdint>
#include <optional>
#include <span>

namespace nmscope::io {

inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

// Product of a shape's dimensions, or nullopt when it overflows int64 (what TensorInfo counts in).
inline std::optional<uint64_t> checked_element_count(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    auto next = checked_mul(count, static_cast<uint64_t>(dim));
    if (!next || *next > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    count = *next;
  }
  return count;
}

}  // namespace nmscope::io
