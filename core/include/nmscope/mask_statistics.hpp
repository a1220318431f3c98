#pragma once
// What a pruning mask looks like, in figures the mask view draws: kept density and kept share of |w| over blocks of a
// viewport, a dense kept/pruned window, per-row kept fraction and kept share of |w| (or w^2), which of the C(M,N)
// keep-patterns occur, and how far two criteria agree.
// Every figure counts real weights only: tail padding (column >= K) is never a kept value (docs/conventions.md).
// A selection with no kept positions (dense, or N == M) keeps everything.
#include <cstdint>
#include <vector>

#include "nmscope/matrix.hpp"
#include "nmscope/pruning.hpp"

namespace nmscope {

// A kept share of each block of a viewport [first_row, +row_count) x [first_col, +col_count) of the matrix.
// Blocks are block_rows x block_cols weights, the smallest whole sizes that fit the viewport into at most the
// requested grid (see block_col_multiple below); the last block of a row or column of blocks may be shorter. A viewport
// reaching past the matrix is clipped to it (an empty viewport gives an empty grid).
struct DensityGrid {
  int64_t grid_rows = 0;
  int64_t grid_cols = 0;
  int64_t block_rows = 1;
  int64_t block_cols = 1;
  int64_t first_row = 0;  // the clipped viewport that the grid covers
  int64_t first_col = 0;
  int64_t row_count = 0;
  int64_t col_count = 0;
  // [grid_rows, grid_cols]: mask_density, real kept weights / real weights of the block; kept_magnitude_share,
  // sum |w| kept / sum |w| of the block.
  std::vector<float> kept_fraction;

  float at(int64_t grid_row, int64_t grid_col) const { return kept_fraction[size_t(grid_row * grid_cols + grid_col)]; }
};

// block_cols is rounded up to a multiple of `block_col_multiple`: with M, and first_col at a group start, every
// block holds whole groups, so its density is exactly N/M but at the tail (blocks cutting groups mix their kept
// and pruned positions into a noise that is not in the mask).
// Costs at most one visit per kept slot of the viewport, and far less when zoomed out: a group lying wholly inside
// one block adds exactly N, so only groups cut by a block edge are read. Throws Error when a grid size or the
// multiple is < 1.
DensityGrid mask_density(const NMSelection& selection, int64_t first_row, int64_t row_count, int64_t first_col,
                         int64_t col_count, int64_t grid_rows, int64_t grid_cols, int64_t block_col_multiple = 1);

// Where pruning hurts: the share of the block's weight magnitude that the mask keeps, sum |w| kept / sum |w| over
// the real weights of each block (1 = nothing of value lost; a block whose weights are all zero reports 1). Same
// viewport, grid and block geometry as mask_density. Reads each weight of the viewport once. Throws Error when a grid
// size or the multiple is < 1, or when the weights do not have the selection's shape.
DensityGrid kept_magnitude_share(const MatrixF& weights, const NMSelection& selection, int64_t first_row,
                                 int64_t row_count, int64_t first_col, int64_t col_count, int64_t grid_rows,
                                 int64_t grid_cols, int64_t block_col_multiple = 1);

// 1 where the weight is kept, 0 where pruned: [row_count, col_count] of the (clipped) window, row-major.
std::vector<uint8_t> kept_mask(const NMSelection& selection, int64_t first_row, int64_t row_count, int64_t first_col,
                               int64_t col_count);

// Real kept weights / K, per row.
std::vector<double> row_kept_fraction(const NMSelection& selection);

// Per row, sum |w| kept / sum |w|, or with `squared` sum w^2 kept / sum w^2 (for pure pruning that is
// 1 - (the row's relative weight error)^2). A row of zeros reports 1. Throws Error when the shapes differ.
std::vector<double> row_kept_magnitude_share(const MatrixF& weights, const NMSelection& selection, bool squared);

// How often each keep-pattern occurs over the full groups (tail groups with padding are left out). A mask has bit p
// set when position p of the group is kept. When C(M,N) <= kListAllLimit every possible mask is listed, zero counts
// included; otherwise only those that occur. Sorted by mask value; counts sum to rows * floor(K / M).
struct KeepPatternHistogram {
  static constexpr int64_t kListAllLimit = 4096;

  int kept_per_group = 1;  // N
  int group_size = 1;      // M
  std::vector<uint32_t> masks;
  std::vector<int64_t> counts;
};

KeepPatternHistogram keep_pattern_histogram(const NMSelection& selection);

// Number of ways to keep N of M (C(M, N)).
int64_t keep_pattern_count(int kept_per_group, int group_size);

// Real kept positions that both selections keep, over the larger of their kept counts: 1 for identical masks,
// the shared fraction for two masks of one pattern. Two selections that keep nothing agree fully.
// Throws Error when the shapes differ.
double mask_agreement(const NMSelection& a, const NMSelection& b);

}  // namespace nmscope
