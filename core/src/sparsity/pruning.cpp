#include "nmscope/pruning.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>

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
    float scores[NMPattern::kMaxGroupSize];
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const float* weight_row = weights.data() + row * cols;
      uint8_t* out = selection.kept_positions.data() + row * selection.slots_per_row();
      for (int64_t group = 0; group < groups; ++group) {
        const int64_t first = group * group_size;
        for (int position = 0; position < group_size; ++position) {
          const int64_t col = first + position;
          // Padding scores below every real weight (scores are >= 0), so it is kept only when it must be.
          if (col >= cols) {
            scores[position] = -1.0f;
            continue;
          }
          float score = std::fabs(weight_row[col]);
          if (criterion == PruningCriterion::Wanda) score *= (*input_norms)[col];
          scores[position] = score;
        }
        // N rounds of argmax with a strict '>' keep the lower index on ties.
        uint32_t chosen = 0;
        for (int round = 0; round < kept; ++round) {
          int best = -1;
          for (int position = 0; position < group_size; ++position) {
            if (chosen & (1u << position)) continue;
            if (best < 0 || scores[position] > scores[best]) best = position;
          }
          chosen |= 1u << best;
        }
        for (int position = 0; position < group_size; ++position)
          if (chosen & (1u << position)) *out++ = uint8_t(position);
      }
    }
  });
  return selection;
}

}  // namespace nmscope
