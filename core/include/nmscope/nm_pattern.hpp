#pragma once
// An N:M structured-sparsity pattern: in every group of M consecutive weights along K within one row, N are kept
// (docs/conventions.md). "dense" is 1:1. Ties in the pruning score keep the lower index.
#include <compare>
#include <string>
#include <vector>

namespace nmscope {

struct NMPattern {
  static constexpr int kMaxGroupSize = 32;

  int kept_per_group = 1;  // N
  int group_size = 1;      // M

  static NMPattern dense() { return {1, 1}; }
  // Accepts "dense" or "N:M" with 1 <= N <= M <= 32; throws SettingError(Setting::Pattern, reason) otherwise.
  static NMPattern parse(const std::string& text);
  static std::vector<NMPattern> parse_list(const std::string& comma_separated);

  // 1 <= N <= M <= 32, as parse() accepts (a row of a newer or damaged database may hold anything).
  bool is_valid() const { return kept_per_group >= 1 && kept_per_group <= group_size && group_size <= kMaxGroupSize; }
  bool is_dense() const { return group_size == 1; }
  // True when no weight is removed (dense, or N == M).
  bool keeps_everything() const { return kept_per_group == group_size; }
  // Bits that name one kept value's position inside its group: ceil(log2 M), and 0 when every position is kept.
  int metadata_bits() const;
  double density() const { return double(kept_per_group) / group_size; }
  std::string to_string() const;  // "dense" or "N:M"

  friend auto operator<=>(const NMPattern&, const NMPattern&) = default;
};

}  // namespace nmscope
