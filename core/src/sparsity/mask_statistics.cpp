#include "nmscope/mask_statistics.hpp"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <unordered_map>

#include "nmscope/error.hpp"

namespace nmscope {

namespace {

struct Window {
  int64_t first_row = 0, row_end = 0, first_col = 0, col_end = 0;
  int64_t rows() const { return row_end - first_row; }
  int64_t cols() const { return col_end - first_col; }
};

Window clip(const NMSelection& selection, int64_t first_row, int64_t row_count, int64_t first_col, int64_t col_count) {
  Window window;
  window.first_row = std::clamp<int64_t>(first_row, 0, selection.rows);
  window.row_end = std::clamp<int64_t>(first_row + std::max<int64_t>(row_count, 0), window.first_row, selection.rows);
  window.first_col = std::clamp<int64_t>(first_col, 0, selection.cols);
  window.col_end = std::clamp<int64_t>(first_col + std::max<int64_t>(col_count, 0), window.first_col, selection.cols);
  return window;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The block geometry of a viewport (every field of the grid but its values), shared by every block statistic so
// that their grids line up. Throws Error(`what`, ...) for a grid below 1x1 or a multiple below 1.
DensityGrid block_grid(const char* what, const Window& window, int64_t grid_rows, int64_t grid_cols,
                       int64_t block_col_multiple) {
  if (grid_rows < 1 || grid_cols < 1)
    throw Error(what, "the grid must be at least 1x1, not " + std::to_string(grid_rows) + "x" + std::to_string(grid_cols));
  if (block_col_multiple < 1)
    throw Error(what, "block widths must be a multiple of at least 1, not " + std::to_string(block_col_multiple));
  DensityGrid grid;
  grid.first_row = window.first_row;
  grid.first_col = window.first_col;
  grid.row_count = window.rows();
  grid.col_count = window.cols();
  if (window.rows() == 0 || window.cols() == 0) return grid;
  grid.block_rows = ceil_div(window.rows(), grid_rows);
  grid.block_cols = ceil_div(ceil_div(window.cols(), grid_cols), block_col_multiple) * block_col_multiple;
  grid.grid_rows = ceil_div(window.rows(), grid.block_rows);
  grid.grid_cols = ceil_div(window.cols(), grid.block_cols);
  grid.kept_fraction.assign(size_t(grid.grid_rows * grid.grid_cols), 1.0f);
  return grid;
}

void require_same_shape(const char* what, const MatrixF& weights, const NMSelection& selection) {
  if (weights.rows() != selection.rows || weights.cols() != selection.cols)
    throw Error(what, "the weights are " + std::to_string(weights.rows()) + "x" + std::to_string(weights.cols()) +
                          " but the mask is " + std::to_string(selection.rows) + "x" + std::to_string(selection.cols));
}

// Calls visit(column) for every kept slot of `row` in groups [first_group, group_end); columns may be padding.
template <typename Visit>
void for_each_kept_column(const NMSelection& selection, int64_t row, int64_t first_group, int64_t group_end,
                          Visit&& visit) {
  const int kept = selection.pattern.kept_per_group;
  const int64_t group_size = selection.pattern.group_size;
  if (selection.kept_positions.empty()) {
    for (int64_t col = first_group * group_size; col < group_end * group_size; ++col) visit(col);
    return;
  }
  const uint8_t* positions = selection.kept_positions.data() + row * selection.slots_per_row();
  for (int64_t group = first_group; group < group_end; ++group) {
    const uint8_t* group_positions = positions + group * kept;
    for (int slot = 0; slot < kept; ++slot) visit(group * group_size + group_positions[slot]);
  }
}

uint32_t full_mask(int group_size) { return group_size >= 32 ? 0xFFFFFFFFu : (uint32_t(1) << group_size) - 1; }

}  // namespace

DensityGrid mask_density(const NMSelection& selection, int64_t first_row, int64_t row_count, int64_t first_col,
                         int64_t col_count, int64_t grid_rows, int64_t grid_cols, int64_t block_col_multiple) {
  const Window window = clip(selection, first_row, row_count, first_col, col_count);
  DensityGrid grid = block_grid("mask density", window, grid_rows, grid_cols, block_col_multiple);
  if (grid.kept_fraction.empty() || selection.kept_positions.empty()) return grid;

  const int kept = selection.pattern.kept_per_group;
  const int64_t group_size = selection.pattern.group_size;
  const int64_t block_cols = grid.block_cols;
  const auto block_of = [&](int64_t col) { return (col - window.first_col) / block_cols; };
  // Every group keeps exactly N distinct positions, so a group inside one block and inside the viewport adds N
  // to that block whatever its positions are; only groups cut by a block or viewport edge need their positions.
  // For those, block_of_position says where each position of the group lands (-1: outside the viewport), so the
  // per-row loop is a table look-up per kept slot.
  std::vector<int64_t> kept_per_row_of_block(size_t(grid.grid_cols), 0);
  std::vector<int64_t> cut_groups;
  std::vector<int32_t> block_of_position;  // [cut group, M]
  const int64_t first_group = window.first_col / group_size;
  const int64_t group_end = ceil_div(window.col_end, group_size);
  for (int64_t group = first_group; group < group_end; ++group) {
    const int64_t begin = group * group_size, end = begin + group_size;
    if (begin >= window.first_col && end <= window.col_end && block_of(begin) == block_of(end - 1)) {
      kept_per_row_of_block[size_t(block_of(begin))] += kept;
      continue;
    }
    cut_groups.push_back(group);
    for (int64_t col = begin; col < end; ++col)
      block_of_position.push_back(col >= window.first_col && col < window.col_end ? int32_t(block_of(col)) : -1);
  }

  const int64_t slots_per_row = selection.slots_per_row();
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, grid.grid_rows, 4), [&](const auto& range) {
    std::vector<int64_t> counts(size_t(grid.grid_cols));
    for (int64_t grid_row = range.begin(); grid_row != range.end(); ++grid_row) {
      const int64_t row_begin = window.first_row + grid_row * grid.block_rows;
      const int64_t row_end = std::min(row_begin + grid.block_rows, window.row_end);
      const int64_t rows_in_block = row_end - row_begin;
      for (size_t block = 0; block < counts.size(); ++block)
        counts[block] = kept_per_row_of_block[block] * rows_in_block;
      for (int64_t row = row_begin; row < row_end; ++row) {
        const uint8_t* positions = selection.kept_positions.data() + row * slots_per_row;
        const int32_t* targets = block_of_position.data();
        for (const int64_t group : cut_groups) {
          const uint8_t* group_positions = positions + group * kept;
          for (int slot = 0; slot < kept; ++slot) {
            const int32_t block = targets[group_positions[slot]];
            if (block >= 0) ++counts[size_t(block)];
          }
          targets += group_size;
        }
      }
      float* out = grid.kept_fraction.data() + grid_row * grid.grid_cols;
      for (int64_t block = 0; block < grid.grid_cols; ++block) {
        const int64_t col_begin = window.first_col + block * block_cols;
        const int64_t cols_in_block = std::min(col_begin + block_cols, window.col_end) - col_begin;
        out[block] = float(double(counts[size_t(block)]) / double(rows_in_block * cols_in_block));
      }
    }
  });
  return grid;
}

DensityGrid kept_magnitude_share(const MatrixF& weights, const NMSelection& selection, int64_t first_row,
                                 int64_t row_count, int64_t first_col, int64_t col_count, int64_t grid_rows,
                                 int64_t grid_cols, int64_t block_col_multiple) {
  require_same_shape("kept magnitude share", weights, selection);
  const Window window = clip(selection, first_row, row_count, first_col, col_count);
  DensityGrid grid = block_grid("kept magnitude share", window, grid_rows, grid_cols, block_col_multiple);
  if (grid.kept_fraction.empty() || selection.kept_positions.empty()) return grid;

  const int kept = selection.pattern.kept_per_group;
  const int64_t group_size = selection.pattern.group_size;
  const int64_t slots_per_row = selection.slots_per_row();
  // Every block row is summed row by row and, within a row, block by block in column order, so a block's value
  // depends only on its own weights: the same block asked for alone (a 1x1 grid) gives the same float.
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, grid.grid_rows, 1), [&](const auto& range) {
    std::vector<double> kept_sum(size_t(grid.grid_cols)), total_sum(size_t(grid.grid_cols));
    for (int64_t grid_row = range.begin(); grid_row != range.end(); ++grid_row) {
      std::fill(kept_sum.begin(), kept_sum.end(), 0.0);
      std::fill(total_sum.begin(), total_sum.end(), 0.0);
      const int64_t row_begin = window.first_row + grid_row * grid.block_rows;
      const int64_t row_end = std::min(row_begin + grid.block_rows, window.row_end);
      for (int64_t row = row_begin; row < row_end; ++row) {
        const float* row_weights = weights.data() + row * weights.cols();
        const uint8_t* positions = selection.kept_positions.data() + row * slots_per_row;
        for (int64_t block = 0; block < grid.grid_cols; ++block) {
          const int64_t col_begin = window.first_col + block * grid.block_cols;
          const int64_t col_end = std::min(col_begin + grid.block_cols, window.col_end);
          total_sum[size_t(block)] +=
              double(Eigen::Map<const Eigen::ArrayXf>(row_weights + col_begin, col_end - col_begin).abs().sum());
          double kept_in_row = 0;
          for (int64_t group = col_begin / group_size; group * group_size < col_end; ++group) {
            const int64_t group_begin = group * group_size;
            const uint8_t* group_positions = positions + group * kept;
            float kept_in_group = 0;
            if (group_begin >= col_begin && group_begin + group_size <= col_end) {
              for (int slot = 0; slot < kept; ++slot)
                kept_in_group += std::fabs(row_weights[group_begin + group_positions[slot]]);
            } else {  // cut by the block or viewport edge; padding columns lie beyond col_end
              for (int slot = 0; slot < kept; ++slot) {
                const int64_t col = group_begin + group_positions[slot];
                if (col >= col_begin && col < col_end) kept_in_group += std::fabs(row_weights[col]);
              }
            }
            kept_in_row += double(kept_in_group);
          }
          kept_sum[size_t(block)] += kept_in_row;
        }
      }
      float* out = grid.kept_fraction.data() + grid_row * grid.grid_cols;
      for (int64_t block = 0; block < grid.grid_cols; ++block)
        out[block] = total_sum[size_t(block)] > 0 ? float(kept_sum[size_t(block)] / total_sum[size_t(block)]) : 1.0f;
    }
  });
  return grid;
}

std::vector<uint8_t> kept_mask(const NMSelection& selection, int64_t first_row, int64_t row_count, int64_t first_col,
                               int64_t col_count) {
  const Window window = clip(selection, first_row, row_count, first_col, col_count);
  std::vector<uint8_t> mask(size_t(window.rows() * window.cols()), 0);
  if (mask.empty()) return mask;
  const int64_t group_size = selection.pattern.group_size;
  const int64_t first_group = window.first_col / group_size;
  const int64_t group_end = ceil_div(window.col_end, group_size);
  for (int64_t row = window.first_row; row < window.row_end; ++row) {
    uint8_t* out = mask.data() + (row - window.first_row) * window.cols();
    for_each_kept_column(selection, row, first_group, group_end, [&](int64_t col) {
      if (col >= window.first_col && col < window.col_end) out[col - window.first_col] = 1;
    });
  }
  return mask;
}

std::vector<double> row_kept_fraction(const NMSelection& selection) {
  std::vector<double> fractions(size_t(selection.rows), 0.0);
  if (selection.cols == 0) return fractions;
  const int64_t group_size = selection.pattern.group_size;
  const int64_t full_groups = selection.cols / group_size;
  // Full groups keep exactly N real weights each; only the tail group can point at padding.
  const int64_t kept_in_full_groups =
      selection.kept_positions.empty() ? full_groups * group_size : full_groups * selection.pattern.kept_per_group;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, selection.rows, 256), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      int64_t kept = kept_in_full_groups;
      for_each_kept_column(selection, row, full_groups, selection.groups_per_row,
                           [&](int64_t col) { kept += col < selection.cols; });
      fractions[size_t(row)] = double(kept) / double(selection.cols);
    }
  });
  return fractions;
}

std::vector<double> row_kept_magnitude_share(const MatrixF& weights, const NMSelection& selection, bool squared) {
  require_same_shape("kept magnitude share", weights, selection);
  std::vector<double> shares(size_t(selection.rows), 1.0);
  if (selection.cols == 0 || selection.kept_positions.empty()) return shares;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, selection.rows, 64), [&](const auto& range) {
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const auto row_weights = weights.row(row).array();
      const double total = squared ? double(row_weights.square().sum()) : double(row_weights.abs().sum());
      double kept = 0;
      for_each_kept_column(selection, row, 0, selection.groups_per_row, [&](int64_t col) {
        if (col >= selection.cols) return;
        const double weight = row_weights(col);
        kept += squared ? weight * weight : std::fabs(weight);
      });
      shares[size_t(row)] = total > 0 ? kept / total : 1.0;
    }
  });
  return shares;
}

int64_t keep_pattern_count(int kept_per_group, int group_size) {
  if (kept_per_group < 0 || kept_per_group > group_size) return 0;
  int64_t count = 1;
  for (int64_t i = 1; i <= kept_per_group; ++i) count = count * (group_size - kept_per_group + i) / i;
  return count;
}

KeepPatternHistogram keep_pattern_histogram(const NMSelection& selection) {
  KeepPatternHistogram histogram;
  const int kept = selection.pattern.kept_per_group;
  const int group_size = selection.pattern.group_size;
  histogram.kept_per_group = kept;
  histogram.group_size = group_size;
  const int64_t full_groups = selection.cols / group_size;

  if (selection.kept_positions.empty()) {
    histogram.masks = {full_mask(group_size)};
    histogram.counts = {selection.rows * full_groups};
    return histogram;
  }

  // Counting into an array indexed by mask is cheapest while 2^M is small; wider groups count into a map.
  const bool count_in_array = group_size <= 16;
  tbb::combinable<std::vector<int64_t>> array_counts([&] { return std::vector<int64_t>(size_t(1) << group_size, 0); });
  tbb::combinable<std::unordered_map<uint32_t, int64_t>> map_counts;
  const int64_t slots_per_row = selection.slots_per_row();
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, selection.rows, 64), [&](const auto& range) {
    std::vector<int64_t>* array = count_in_array ? &array_counts.local() : nullptr;
    std::unordered_map<uint32_t, int64_t>* map = count_in_array ? nullptr : &map_counts.local();
    for (int64_t row = range.begin(); row != range.end(); ++row) {
      const uint8_t* positions = selection.kept_positions.data() + row * slots_per_row;
      for (int64_t group = 0; group < full_groups; ++group) {
        uint32_t mask = 0;
        for (int slot = 0; slot < kept; ++slot) mask |= uint32_t(1) << positions[group * kept + slot];
        if (array)
          ++(*array)[mask];
        else
          ++(*map)[mask];
      }
    }
  });
  std::unordered_map<uint32_t, int64_t> totals;
  if (count_in_array) {
    std::vector<int64_t> sum(size_t(1) << group_size, 0);
    array_counts.combine_each([&](const std::vector<int64_t>& part) {
      for (size_t mask = 0; mask < sum.size(); ++mask) sum[mask] += part[mask];
    });
    for (size_t mask = 0; mask < sum.size(); ++mask)
      if (sum[mask] != 0) totals[uint32_t(mask)] = sum[mask];
  } else {
    map_counts.combine_each([&](const std::unordered_map<uint32_t, int64_t>& part) {
      for (const auto& [mask, count] : part) totals[mask] += count;
    });
  }

  if (keep_pattern_count(kept, group_size) <= KeepPatternHistogram::kListAllLimit) {
    // Gosper's hack walks the M-bit masks with N bits set in increasing order.
    const uint64_t limit = uint64_t(1) << group_size;
    for (uint64_t mask = (uint64_t(1) << kept) - 1; mask < limit;) {
      histogram.masks.push_back(uint32_t(mask));
      const auto found = totals.find(uint32_t(mask));
      histogram.counts.push_back(found == totals.end() ? 0 : found->second);
      const uint64_t lowest = mask & (~mask + 1);
      const uint64_t ripple = mask + lowest;
      mask = (((ripple ^ mask) >> 2) / lowest) | ripple;
    }
  } else {
    for (const auto& entry : totals) histogram.masks.push_back(entry.first);
    std::sort(histogram.masks.begin(), histogram.masks.end());
    for (const uint32_t mask : histogram.masks) histogram.counts.push_back(totals[mask]);
  }
  return histogram;
}

double mask_agreement(const NMSelection& a, const NMSelection& b) {
  if (a.rows != b.rows || a.cols != b.cols)
    throw Error("mask comparison", "the masks have different shapes (" + std::to_string(a.rows) + "x" +
                                       std::to_string(a.cols) + " and " + std::to_string(b.rows) + "x" +
                                       std::to_string(b.cols) + ")");
  // {kept by a, kept by b, kept by both}, real columns only.
  tbb::combinable<std::array<int64_t, 3>> totals([] { return std::array<int64_t, 3>{0, 0, 0}; });
  const int group_size = a.pattern.group_size;
  if (group_size == b.pattern.group_size && !a.kept_positions.empty() && !b.kept_positions.empty()) {
    // Same groups: compare the groups' keep-masks; only the tail group has padding bits to mask off.
    const int64_t tail_cols = a.cols - (a.groups_per_row - 1) * group_size;
    const uint32_t tail_bits = full_mask(int(tail_cols));
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, a.rows, 64), [&](const auto& range) {
      auto& total = totals.local();
      const auto group_mask = [](const NMSelection& selection, int64_t row, int64_t group) {
        const int kept = selection.pattern.kept_per_group;
        const uint8_t* positions = selection.kept_positions.data() + row * selection.slots_per_row() + group * kept;
        uint32_t mask = 0;
        for (int slot = 0; slot < kept; ++slot) mask |= uint32_t(1) << positions[slot];
        return mask;
      };
      for (int64_t row = range.begin(); row != range.end(); ++row)
        for (int64_t group = 0; group < a.groups_per_row; ++group) {
          const uint32_t real = group == a.groups_per_row - 1 ? tail_bits : 0xFFFFFFFFu;
          const uint32_t mask_a = group_mask(a, row, group) & real, mask_b = group_mask(b, row, group) & real;
          total[0] += std::popcount(mask_a);
          total[1] += std::popcount(mask_b);
          total[2] += std::popcount(mask_a & mask_b);
        }
    });
  } else {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, a.rows, 64), [&](const auto& range) {
      std::vector<uint8_t> kept_by_a(size_t(a.cols));
      auto& total = totals.local();
      for (int64_t row = range.begin(); row != range.end(); ++row) {
        std::fill(kept_by_a.begin(), kept_by_a.end(), 0);
        for_each_kept_column(a, row, 0, a.groups_per_row, [&](int64_t col) {
          if (col < a.cols) {
            kept_by_a[size_t(col)] = 1;
            ++total[0];
          }
        });
        for_each_kept_column(b, row, 0, b.groups_per_row, [&](int64_t col) {
          if (col < b.cols) {
            ++total[1];
            total[2] += kept_by_a[size_t(col)];
          }
        });
      }
    });
  }
  const auto sum = totals.combine([](auto x, auto y) {
    return std::array<int64_t, 3>{x[0] + y[0], x[1] + y[1], x[2] + y[2]};
  });
  const int64_t larger = std::max(sum[0], sum[1]);
  return larger == 0 ? 1.0 : double(sum[2]) / double(larger);
}

}  // namespace nmscope
