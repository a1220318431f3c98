#include "nmscope/pruning.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "nmscope/error.hpp"

namespace nmscope {

PruningCriterion parse_criterion(const std::string& name) {
  if (name == "magnitude") return PruningCriterion::Magnitude;
  if (name == "wanda") return PruningCriterion::Wanda;
  throw SettingError(Setting::Criterion, "'" + name + "' is not a pruning criterion (magnitude, wanda)");
}

std::string criterion_name(PruningCriterion criterion) {
  return criterion == PruningCriterion::Wanda ? "wanda" : "magnitude";
}

double NMSelection::kept_fraction() const {
  if (rows == 0 || cols == 0) return 0;
  if (kept_positions.empty()) return 1.0;
  int64_t kept = 0;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t slot = 0; slot < slots_per_row(); ++slot) kept += column(row, slot) < cols;
  return double(kept) / (double(rows) * double(cols));
}

VectorF activation_column_norms(const MatrixF& activations) {
  VectorF norms(activations.cols());
  tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, activations.cols(), 256), [&](const auto& range) {
    for (Eigen::Index col = range.begin(); col != range.end(); ++col) {
      double sum = 0;
      for (Eigen::Index token = 0; token < activations.rows(); ++token) {
        const double value = activations(token, col);
        sum += value * value;
      }
      norms[col] = float(std::sqrt(sum));
    }
  });
  return norms;
}

namespace {

// Writes the positions of the `kept` highest scores of one group, ascending. A position's rank is the number of
// positions that beat it: a higher score, or an equal score at a lower index; it is kept when its rank is below
// `kept`. That is the same set as `kept` rounds of argmax with ties to the lower index, without branches on the data.
template <int kFixedGroupSize = 0>
inline uint8_t* keep_in_group(const float* scores, int runtime_group_size, int kept, uint8_t* out) {
  // The common group sizes are compile-time constants, so their comparison loops unroll.
  const int group_size = kFixedGroupSize > 0 ? kFixedGroupSize : runtime_group_size;
  uint32_t chosen = 0;
  for (int position = 0; position < group_size; ++position) {
    const float score = scores[position];
    int rank = 0;
    for (int other = 0; other < position; ++other) rank += scores[other] >= score;
    for (int other = position + 1; other < group_size; ++other) rank += scores[other] > score;
    chosen |= uint32_t(rank < kept) << position;
  }
  // Exactly `kept` bits are set (the ranks are a permutation): a loop of fixed trip count, lowest position first.
  for (int index = 0; index < kept; ++index) {
    *out++ = uint8_t(__builtin_ctz(chosen));
    chosen &= chosen - 1;
  }
  return out;
}

// 2:4, the pattern of sparse tensor cores and of most studies, in two loops: the kept-position mask of every group by
// the same ranks as keep_in_group, branch-free over groups so that it vectorizes, then each mask's two positions from
// a table.
void two_of_four_masks(const float* scores, int64_t groups, uint8_t* masks) {
  for (int64_t group = 0; group < groups; ++group) {
    const float* s = scores + 4 * group;
    const int rank0 = (s[1] > s[0]) + (s[2] > s[0]) + (s[3] > s[0]);
    const int rank1 = (s[0] >= s[1]) + (s[2] > s[1]) + (s[3] > s[1]);
    const int rank2 = (s[0] >= s[2]) + (s[1] >= s[2]) + (s[3] > s[2]);
    const int rank3 = (s[0] >= s[3]) + (s[1] >= s[3]) + (s[2] >= s[3]);
    masks[group] = uint8_t((rank0 < 2) | ((rank1 < 2) << 1) | ((rank2 < 2) << 2) | ((rank3 < 2) << 3));
  }
}

void select_two_of_four(const float* scores, int64_t groups, uint8_t* masks, uint8_t* out) {
  two_of_four_masks(scores, groups, masks);
  // The two set bits of each of the six possible masks, lower first (other entries are never read).
  static constexpr uint8_t kFirst[16] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0};
  static constexpr uint8_t kSecond[16] = {0, 0, 0, 1, 0, 2, 2, 0, 0, 3, 3, 0, 3, 0, 0, 0};
  for (int64_t group = 0; group < groups; ++group) {
    out[2 * group] = kFirst[masks[group]];
    out[2 * group + 1] = kSecond[masks[group]];
  }
}

// |w| or |w| * ||X_j|| of one row, and below every real score for the tail padding (scores are >= 0), so padding is
// kept only when it must be.
void row_scores(const float* weight_row, int64_t cols, int64_t padded_cols, PruningCriterion criterion,
                const VectorF* input_norms, float* scores) {
  for (int64_t col = 0; col < cols; ++col) scores[col] = std::fabs(weight_row[col]);
  if (criterion == PruningCriterion::Wanda)
    for (int64_t col = 0; col < cols; ++col) scores[col] *= (*input_norms)[col];
  for (int64_t col = cols; col < padded_cols; ++col) scores[col] = -1.0f;
}

void check_wanda_norms(const MatrixF& weights, PruningCriterion criterion, const VectorF* input_norms) {
  if (criterion != PruningCriterion::Wanda) return;
  if (input_norms == nullptr)
    throw SettingError(Setting::Criterion,
                       "wanda needs calibration activations: pass --activations FILE.npy ([tokens, K])");
  if (input_norms->size() != weights.cols())
    throw SettingError(Setting::Activations, "activations have K = " + std::to_string(input_norms->size()) +
                                                 " but the weights have K = " + std::to_string(weights.cols()));
}

}  // namespace

int64_t keep_bits_row_bytes(int64_t cols, const NMPattern& pattern) {
  const int64_t groups = (cols + pattern.group_size - 1) / pattern.group_size;
  return (groups * pattern.group_size + 7) / 8 + 1;
}

std::vector<uint8_t> select_nm_bits(const MatrixF& weights, const NMPattern& pattern, PruningCriterion criterion,
                                    const VectorF* input_norms) {
  check_wanda_norms(weights, criterion, input_norms);
  const int64_t rows = weights.rows(), cols = weights.cols();
  const int64_t row_bytes = keep_bits_row_bytes(cols, pattern);
  std::vector<uint8_t> bits(size_t(rows * row_bytes), 0);
  const int group_size = pattern.group_size, kept = pattern.kept_per_group;
  const int64_t groups = (cols + group_size - 1) / group_size;
  if (pattern.keeps_everything()) {
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t col = 0; col < cols; ++col) bits[size_t(row * row_bytes + (col >> 3))] |= uint8_t(1u << (col & 7));
    return bits;
  }
  if (group_size == 4 && kept == 2) {
    // 2:4 straight from the group masks of select_two_of_four: two groups per byte.
    std::vector<float> scores(size_t(groups * group_size));
    std::vector<uint8_t> masks(size_t(groups) + 1, 0);  // the spare entry pairs with an odd last group
    for (int64_t row = 0; row < rows; ++row) {
      row_scores(weights.data() + row * cols, cols, groups * group_size, criterion, input_norms, scores.data());
      two_of_four_masks(scores.data(), groups, masks.data());
      uint8_t* out = bits.data() + row * row_bytes;
      for (int64_t pair = 0; pair < (groups + 1) / 2; ++pair)
        out[pair] = uint8_t(masks[size_t(2 * pair)] | (masks[size_t(2 * pair + 1)] << 4));
    }
    return bits;
  }
  // Other patterns: the kept positions of select_nm, each group's M bits into a 64-bit word written eight bytes at a
  // time.
  const NMSelection selection = select_nm(weights, pattern, criterion, input_norms);
  const int64_t slots = selection.slots_per_row();
  for (int64_t row = 0; row < rows; ++row) {
    uint8_t* out = bits.data() + row * row_bytes;
    const uint8_t* positions = selection.kept_positions.data() + row * slots;
    uint64_t word = 0;
    int filled = 0;  // bits of `word` in use, < 64
    for (int64_t group = 0; group < groups; ++group) {
      uint64_t group_bits = 0;
      for (int index = 0; index < kept; ++index) group_bits |= uint64_t{1} << *positions++;
      word |= group_bits << filled;
      filled += group_size;
      if (filled >= 64) {
        std::memcpy(out, &word, sizeof word);
        out += sizeof word;
        filled -= 64;
        word = filled > 0 ? group_bits >> (group_size - filled) : 0;
      }
    }
    std::memcpy(out, &word, size_t((filled + 7) / 8));
  }
  return bits;
}

NMSelection select_nm(const MatrixF& weights, const NMPattern& pattern, PruningCriterion criterion,
                      const VectorF* input_norms) {
  NMSelection selection;
  selection.rows = weights.rows();
  selection.cols = weights.cols();
  selection.pattern = pattern;
  const int kept = pattern.kept_per_group;
  const int group_size = pattern.group_size;
  selection.groups_per_row = (selection.cols + group_size - 1) / group_size;
  check_wanda_norms(weights, criterion, input_norms);
  if (pattern.keeps_everything()) return selection;

  selection.kept_positions.resize(size_t(selection.rows * selection.slots_per_row()));
  const int64_t cols = selection.cols;
  const int64_t groups = selection.groups_per_row;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, selection.rows, 16), [&](const auto& range) {
    std::vector<float> scores(size_t(groups * group_size));
    std::vector<uint8_t> masks(static_cast<size_t>(groups));
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const float* weight_row = weights.data() + row * cols;
      uint8_t* out = selection.kept_positions.data() + row * selection.slots_per_row();
      row_scores(weight_row, cols, groups * group_size, criterion, input_norms, scores.data());
      if (group_size == 4 && kept == 2) {
        select_two_of_four(scores.data(), groups, masks.data(), out);
        continue;
      }
      for (int64_t group = 0; group < groups; ++group) {
        const float* group_scores = scores.data() + group * group_size;
        if (group_size == 4) out = keep_in_group<4>(group_scores, 4, kept, out);
        else if (group_size == 8) out = keep_in_group<8>(group_scores, 8, kept, out);
        else out = keep_in_group(group_scores, group_size, kept, out);
      }
    }
  });
  return selection;
}

}  // namespace nmscope
