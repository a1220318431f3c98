#include "nmscope/pruning.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <vector>

#include "nmscope/error.hpp"

namespace nmscope {

PruningCriterion parse_criterion(const std::string& name) {
  if (name == "magnitude") return PruningCriterion::Magnitude;
  if (name == "wanda") return PruningCriterion::Wanda;
  throw Error("--criterion", "'" + name + "' is not a pruning criterion (magnitude, wanda)");
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
void select_two_of_four(const float* scores, int64_t groups, uint8_t* masks, uint8_t* out) {
  for (int64_t group = 0; group < groups; ++group) {
    const float* s = scores + 4 * group;
    const int rank0 = (s[1] > s[0]) + (s[2] > s[0]) + (s[3] > s[0]);
    const int rank1 = (s[0] >= s[1]) + (s[2] > s[1]) + (s[3] > s[1]);
    const int rank2 = (s[0] >= s[2]) + (s[1] >= s[2]) + (s[3] > s[2]);
    const int rank3 = (s[0] >= s[3]) + (s[1] >= s[3]) + (s[2] >= s[3]);
    masks[group] = uint8_t((rank0 < 2) | ((rank1 < 2) << 1) | ((rank2 < 2) << 2) | ((rank3 < 2) << 3));
  }
  // The two set bits of each of the six possible masks, lower first (other entries are never read).
  static constexpr uint8_t kFirst[16] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0};
  static constexpr uint8_t kSecond[16] = {0, 0, 0, 1, 0, 2, 2, 0, 0, 3, 3, 0, 3, 0, 0, 0};
  for (int64_t group = 0; group < groups; ++group) {
    out[2 * group] = kFirst[masks[group]];
    out[2 * group + 1] = kSecond[masks[group]];
  }
}

}  // namespace

NMSelection select_nm(const MatrixF& weights, const NMPattern& pattern, PruningCriterion criterion,
                      const VectorF* input_norms) {
  NMSelection selection;
  selection.rows = weights.rows();
  selection.cols = weights.cols();
  selection.pattern = pattern;
  const int kept = pattern.kept_per_group;
  const int group_size = pattern.group_size;
  selection.groups_per_row = (selection.cols + group_size - 1) / group_size;
  if (criterion == PruningCriterion::Wanda) {
    if (input_norms == nullptr)
      throw Error("--criterion", "wanda needs calibration activations: pass --activations FILE.npy ([tokens, K])");
    if (input_norms->size() != weights.cols())
      throw Error("--activations", "activations have K = " + std::to_string(input_norms->size()) +
                                       " but the weights have K = " + std::to_string(weights.cols()));
  }
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
      // Padding scores below every real weight (scores are >= 0), so it is kept only when it must be.
      for (int64_t col = 0; col < cols; ++col) scores[size_t(col)] = std::fabs(weight_row[col]);
      if (criterion == PruningCriterion::Wanda)
        for (int64_t col = 0; col < cols; ++col) scores[size_t(col)] *= (*input_norms)[col];
      for (int64_t col = cols; col < groups * group_size; ++col) scores[size_t(col)] = -1.0f;
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
