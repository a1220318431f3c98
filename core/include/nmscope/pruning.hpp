#pragma once
// Choosing which N of every M weights survive. The result is the list of kept positions (the unpacked form of the
// packed format's metadata), not a dense mask: it is what the packer, the kernels and the mask view all consume.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/matrix.hpp"
#include "nmscope/nm_pattern.hpp"

namespace nmscope {

enum class PruningCriterion { Magnitude, Wanda };

PruningCriterion parse_criterion(const std::string& name);  // throws SettingError(Setting::Criterion, ...)
std::string criterion_name(PruningCriterion criterion);

struct NMSelection {
  int64_t rows = 0;
  int64_t cols = 0;               // K before padding
  NMPattern pattern;
  int64_t groups_per_row = 0;     // ceil(K / M)
  // [rows, groups_per_row, N] position within its group (0..M-1) of each kept slot, ascending within a group.
  // A slot may point at tail padding (column >= K) only when the tail group has fewer than N real columns.
  // Empty when the pattern keeps everything (dense, N == M): slot s is then column s.
  std::vector<uint8_t> kept_positions;

  int64_t slots_per_row() const { return groups_per_row * pattern.kept_per_group; }
  // Column in the original matrix of slot `slot` of row `row` (may be >= cols for tail padding).
  int64_t column(int64_t row, int64_t slot) const {
    if (kept_positions.empty()) return slot;
    const int64_t group = slot / pattern.kept_per_group;
    return group * pattern.group_size + kept_positions[row * slots_per_row() + slot];
  }
  // Kept real weights (padding excluded) over rows*cols.
  double kept_fraction() const;
};

// Scores are |w| (magnitude) or |w| * ||X_j||_2 (wanda, `input_norms` of length K). Ties keep the lower index.
// Throws SettingError(Setting::Criterion, ...) when wanda is asked for without input norms.
NMSelection select_nm(const MatrixF& weights, const NMPattern& pattern, PruningCriterion criterion,
                      const VectorF* input_norms = nullptr);

// The same selection as one bit per column, set where a weight is kept: bit (col % 8) of byte col / 8 of each row's
// keep_bits_row_bytes(cols, pattern) bytes (every group's M bits, tail padding included, and one spare byte). For code
// that masks columns instead of gathering slots: a model study's streamed figures (quantization_error_row).
int64_t keep_bits_row_bytes(int64_t cols, const NMPattern& pattern);
std::vector<uint8_t> select_nm_bits(const MatrixF& weights, const NMPattern& pattern, PruningCriterion criterion,
                                    const VectorF* input_norms = nullptr);

// ||X_j||_2 over the tokens of calibration activations X [tokens, K], in double, returned as float.
VectorF activation_column_norms(const MatrixF& activations);

}  // namespace nmscope
