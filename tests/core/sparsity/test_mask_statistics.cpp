// Mask statistics against brute force over a dense kept/pruned matrix: block density and kept magnitude share, kept
// windows, per-row fraction and magnitude share, keep-pattern histogram, agreement; tails (K not a multiple of M),
// all-zero blocks and keep-everything selections; the time a whole 4096x11008 layer takes to shade.
#include <QElapsedTimer>
#include <QtTest>
#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <random>

#include "nmscope/error.hpp"
#include "nmscope/mask_statistics.hpp"

using namespace nmscope;

namespace {

MatrixF random_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  return matrix;
}

// [rows, cols] 1 = kept, from NMSelection::column alone (padding slots dropped).
std::vector<uint8_t> brute_force_mask(const NMSelection& selection) {
  std::vector<uint8_t> mask(size_t(selection.rows * selection.cols), 0);
  const int64_t slot_count = selection.kept_positions.empty() ? selection.cols : selection.slots_per_row();
  for (int64_t row = 0; row < selection.rows; ++row)
    for (int64_t slot = 0; slot < slot_count; ++slot) {
      const int64_t col = selection.column(row, slot);
      if (col < selection.cols) mask[size_t(row * selection.cols + col)] = 1;
    }
  return mask;
}

NMSelection magnitude_selection(int64_t rows, int64_t cols, NMPattern pattern, unsigned seed = 3) {
  return select_nm(random_matrix(rows, cols, seed), pattern, PruningCriterion::Magnitude);
}

// Brute-force kept share of sum |w| (or w^2) over [row_begin, row_end) x [col_begin, col_end); 1 for all zeros.
double brute_force_share(const MatrixF& weights, const std::vector<uint8_t>& mask, int64_t row_begin, int64_t row_end,
                         int64_t col_begin, int64_t col_end, bool squared = false) {
  double kept = 0, total = 0;
  for (int64_t row = row_begin; row < row_end; ++row)
    for (int64_t col = col_begin; col < col_end; ++col) {
      const double weight = weights(row, col);
      const double value = squared ? weight * weight : std::fabs(weight);
      total += value;
      if (mask[size_t(row * weights.cols() + col)]) kept += value;
    }
  return total > 0 ? kept / total : 1.0;
}

// Normal weights with a heavy tail: a few weights 20x larger, as trained layers have, so shares vary between blocks.
MatrixF heavy_tailed_matrix(int64_t rows, int64_t cols, unsigned seed) {
  MatrixF matrix = random_matrix(rows, cols, seed);
  std::mt19937 engine(seed + 1);
  std::uniform_int_distribution<int64_t> pick(0, matrix.size() - 1);
  for (int64_t count = 0; count < matrix.size() / 50; ++count) matrix.data()[pick(engine)] *= 20.0f;
  return matrix;
}

void add_pattern_rows() {
  QTest::addColumn<int>("kept");
  QTest::addColumn<int>("group");
  QTest::addColumn<int>("cols");
  QTest::newRow("2:4") << 2 << 4 << 64;
  QTest::newRow("2:4 tail") << 2 << 4 << 67;
  QTest::newRow("1:4 tail") << 1 << 4 << 65;
  QTest::newRow("4:8 tail") << 4 << 8 << 70;
  QTest::newRow("2:8") << 2 << 8 << 64;
  QTest::newRow("3:7 tail") << 3 << 7 << 50;
  QTest::newRow("5:32 tail") << 5 << 32 << 100;
  QTest::newRow("10:20 tail") << 10 << 20 << 90;
  QTest::newRow("4:4 tail") << 4 << 4 << 30;
  QTest::newRow("dense") << 1 << 1 << 33;
}

}  // namespace

class TestMaskStatistics final : public QObject {
  Q_OBJECT

 private slots:
  void density_matches_brute_force_data() { add_pattern_rows(); }
  void density_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 37;
    const NMSelection selection = magnitude_selection(rows, cols, NMPattern{kept, group});
    const auto mask = brute_force_mask(selection);
    struct Case {
      int64_t first_row, row_count, first_col, col_count, grid_rows, grid_cols;
    };
    const Case cases[] = {
        {0, rows, 0, cols, 5, 7},                          // whole matrix, blocks not aligned with groups
        {0, rows, 0, cols, 1, 1},                          // one block
        {0, rows, 0, cols, 1000, 1000},                    // one weight per block
        {3, 20, 5, 40, 6, 9},                              // inner viewport
        {30, 100, cols - 9, 50, 3, 4},                     // clipped at the bottom right
        {-4, 10, -3, 11, 2, 3},                            // clipped at the top left
        {0, rows, 0, cols, 3, std::max(1, cols / group)},  // blocks of about one group
    };
    for (const Case& c : cases) {
      const DensityGrid grid =
          mask_density(selection, c.first_row, c.row_count, c.first_col, c.col_count, c.grid_rows, c.grid_cols);
      const int64_t row_begin = std::clamp<int64_t>(c.first_row, 0, rows);
      const int64_t row_end = std::clamp<int64_t>(c.first_row + c.row_count, row_begin, rows);
      const int64_t col_begin = std::clamp<int64_t>(c.first_col, 0, cols);
      const int64_t col_end = std::clamp<int64_t>(c.first_col + c.col_count, col_begin, cols);
      QCOMPARE(grid.first_row, row_begin);
      QCOMPARE(grid.row_count, row_end - row_begin);
      QCOMPARE(grid.first_col, col_begin);
      QCOMPARE(grid.col_count, col_end - col_begin);
      QVERIFY(grid.grid_rows <= c.grid_rows && grid.grid_cols <= c.grid_cols);
      QVERIFY(grid.grid_rows * grid.block_rows >= grid.row_count);
      QVERIFY((grid.grid_rows - 1) * grid.block_rows < grid.row_count);
      QVERIFY(grid.grid_cols * grid.block_cols >= grid.col_count);
      QVERIFY((grid.grid_cols - 1) * grid.block_cols < grid.col_count);
      QCOMPARE(int64_t(grid.kept_fraction.size()), grid.grid_rows * grid.grid_cols);
      for (int64_t grid_row = 0; grid_row < grid.grid_rows; ++grid_row)
        for (int64_t grid_col = 0; grid_col < grid.grid_cols; ++grid_col) {
          int64_t kept_here = 0, total = 0;
          for (int64_t row = row_begin + grid_row * grid.block_rows;
               row < std::min(row_begin + (grid_row + 1) * grid.block_rows, row_end); ++row)
            for (int64_t col = col_begin + grid_col * grid.block_cols;
                 col < std::min(col_begin + (grid_col + 1) * grid.block_cols, col_end); ++col) {
              kept_here += mask[size_t(row * cols + col)];
              ++total;
            }
          QVERIFY(total > 0);
          QCOMPARE(grid.at(grid_row, grid_col), float(double(kept_here) / double(total)));
        }
    }
  }

  void group_aligned_blocks_are_exactly_n_over_m() {
    const int64_t rows = 23, cols = 203;  // 2:4 leaves a 3-column tail
    const NMSelection selection = magnitude_selection(rows, cols, NMPattern{2, 4});
    const DensityGrid grid = mask_density(selection, 0, rows, 0, cols, 7, 30, 4);
    QCOMPARE(grid.block_cols, int64_t(8));  // ceil(203 / 30) = 7, rounded up to whole groups
    QCOMPARE(grid.grid_cols, int64_t(26));
    for (int64_t grid_row = 0; grid_row < grid.grid_rows; ++grid_row)
      for (int64_t grid_col = 0; grid_col + 1 < grid.grid_cols; ++grid_col) QCOMPARE(grid.at(grid_row, grid_col), 0.5f);
    // The last block: 200..202, the tail of 3 real columns of which 2 are kept.
    const DensityGrid tail = mask_density(selection, 0, rows, 200, 3, 1, 1, 4);
    QCOMPARE(tail.at(0, 0), 2.0f / 3.0f);
    QVERIFY_THROWS_EXCEPTION(Error, mask_density(selection, 0, rows, 0, cols, 7, 30, 0));
  }

  void empty_viewport_and_bad_grid() {
    const NMSelection selection = magnitude_selection(8, 16, NMPattern{2, 4});
    const DensityGrid outside = mask_density(selection, 20, 5, 0, 16, 4, 4);
    QCOMPARE(outside.grid_rows, int64_t(0));
    QVERIFY(outside.kept_fraction.empty());
    QVERIFY(mask_density(selection, 0, 8, 3, 0, 4, 4).kept_fraction.empty());
    QVERIFY_THROWS_EXCEPTION(Error, mask_density(selection, 0, 8, 0, 16, 0, 4));
    QVERIFY_THROWS_EXCEPTION(Error, mask_density(selection, 0, 8, 0, 16, 4, -1));
  }

  void magnitude_share_matches_brute_force_data() { add_pattern_rows(); }
  void magnitude_share_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 37;
    MatrixF weights = heavy_tailed_matrix(rows, cols, 21);
    weights.block(0, 0, 6, std::min(cols, 9)).setZero();  // an all-zero corner: its blocks report 1
    const NMSelection selection = select_nm(weights, NMPattern{kept, group}, PruningCriterion::Magnitude);
    const auto mask = brute_force_mask(selection);
    const int64_t effective_group = selection.pattern.group_size;
    struct Case {
      int64_t first_row, row_count, first_col, col_count, grid_rows, grid_cols, multiple;
    };
    const Case cases[] = {
        {0, rows, 0, cols, 5, 7, 1},                // blocks cutting groups
        {0, rows, 0, cols, 5, 7, effective_group},  // blocks of whole groups
        {0, rows, 0, cols, 1, 1, 1},                // one block
        {0, rows, 0, cols, 1000, 1000, 1},          // one weight per block
        {3, 20, 5, 40, 6, 9, 1},                    // inner viewport starting inside a group
        {30, 100, cols - 9, 50, 3, 4, 1},           // clipped at the bottom right, over the tail
        {-4, 10, -3, 11, 2, 3, 1},                  // clipped at the top left, the zero corner
        {0, 3, 0, 3, 1, 1, 1},                      // inside the zero corner
    };
    for (const Case& c : cases) {
      const DensityGrid grid = kept_magnitude_share(weights, selection, c.first_row, c.row_count, c.first_col,
                                                    c.col_count, c.grid_rows, c.grid_cols, c.multiple);
      const DensityGrid density =
          mask_density(selection, c.first_row, c.row_count, c.first_col, c.col_count, c.grid_rows, c.grid_cols,
                       c.multiple);
      QCOMPARE(grid.grid_rows, density.grid_rows);  // one geometry for every block statistic
      QCOMPARE(grid.grid_cols, density.grid_cols);
      QCOMPARE(grid.block_rows, density.block_rows);
      QCOMPARE(grid.block_cols, density.block_cols);
      QCOMPARE(grid.first_row, density.first_row);
      QCOMPARE(grid.first_col, density.first_col);
      QCOMPARE(grid.row_count, density.row_count);
      QCOMPARE(grid.col_count, density.col_count);
      QCOMPARE(int64_t(grid.kept_fraction.size()), grid.grid_rows * grid.grid_cols);
      const int64_t row_end = grid.first_row + grid.row_count, col_end = grid.first_col + grid.col_count;
      for (int64_t grid_row = 0; grid_row < grid.grid_rows; ++grid_row)
        for (int64_t grid_col = 0; grid_col < grid.grid_cols; ++grid_col) {
          const int64_t block_row = grid.first_row + grid_row * grid.block_rows;
          const int64_t block_col = grid.first_col + grid_col * grid.block_cols;
          const int64_t block_row_end = std::min(block_row + grid.block_rows, row_end);
          const int64_t block_col_end = std::min(block_col + grid.block_cols, col_end);
          const double expected = brute_force_share(weights, mask, block_row, block_row_end, block_col, block_col_end);
          QVERIFY2(std::abs(grid.at(grid_row, grid_col) - expected) < 1e-5,
                   qPrintable(QString("block %1,%2: %3, brute force %4")
                                  .arg(grid_row)
                                  .arg(grid_col)
                                  .arg(grid.at(grid_row, grid_col))
                                  .arg(expected)));
          // A block asked for alone is summed in the same order: exactly the value of the grid.
          const DensityGrid alone = kept_magnitude_share(weights, selection, block_row, block_row_end - block_row,
                                                         block_col, block_col_end - block_col, 1, 1);
          QCOMPARE(alone.at(0, 0), grid.at(grid_row, grid_col));
        }
    }
    QCOMPARE(kept_magnitude_share(weights, selection, 0, 3, 0, 3, 1, 1).at(0, 0), 1.0f);
  }

  void magnitude_share_of_pruned_blocks_and_bad_arguments() {
    // 1:4 over rows of (1, 2, 3, 4): magnitude keeps the 4, a share of 0.4 in every group.
    MatrixF weights(3, 16);
    for (int64_t col = 0; col < 16; ++col) weights.col(col).setConstant(float(col % 4 + 1));
    weights.row(1) = -weights.row(1);  // the sign does not matter
    const NMSelection selection = select_nm(weights, NMPattern{1, 4}, PruningCriterion::Magnitude);
    const DensityGrid grid = kept_magnitude_share(weights, selection, 0, 3, 0, 16, 3, 4, 4);
    for (const float share : grid.kept_fraction) QCOMPARE(share, 0.4f);
    for (const double share : row_kept_magnitude_share(weights, selection, false)) QCOMPARE(share, 0.4);
    for (const double share : row_kept_magnitude_share(weights, selection, true)) QCOMPARE(share, 16.0 / 30.0);
    QVERIFY(kept_magnitude_share(weights, selection, 5, 3, 0, 16, 3, 4).kept_fraction.empty());
    QVERIFY_THROWS_EXCEPTION(Error, kept_magnitude_share(weights, selection, 0, 3, 0, 16, 0, 4));
    QVERIFY_THROWS_EXCEPTION(Error, kept_magnitude_share(weights, selection, 0, 3, 0, 16, 3, 4, 0));
    const MatrixF other(3, 12);
    QVERIFY_THROWS_EXCEPTION(Error, kept_magnitude_share(other, selection, 0, 3, 0, 12, 3, 4));
    QVERIFY_THROWS_EXCEPTION(Error, row_kept_magnitude_share(other, selection, false));
  }

  void row_magnitude_share_matches_brute_force_data() { add_pattern_rows(); }
  void row_magnitude_share_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 13;
    MatrixF weights = heavy_tailed_matrix(rows, cols, 23);
    weights.row(4).setZero();
    const NMSelection selection = select_nm(weights, NMPattern{kept, group}, PruningCriterion::Magnitude);
    const auto mask = brute_force_mask(selection);
    for (const bool squared : {false, true}) {
      const auto shares = row_kept_magnitude_share(weights, selection, squared);
      QCOMPARE(int64_t(shares.size()), rows);
      for (int64_t row = 0; row < rows; ++row) {
        const double expected = brute_force_share(weights, mask, row, row + 1, 0, cols, squared);
        QVERIFY2(std::abs(shares[size_t(row)] - expected) < 1e-6,
                 qPrintable(QString("row %1: %2, brute force %3").arg(row).arg(shares[size_t(row)]).arg(expected)));
        QVERIFY(shares[size_t(row)] <= 1.0 + 1e-12);
      }
      QCOMPARE(shares[4], 1.0);
    }
  }

  void magnitude_share_of_a_whole_layer_is_quick() {
    const int64_t rows = 4096, cols = 11008;
    const MatrixF weights = random_matrix(rows, cols, 31);
    const NMSelection selection = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    std::vector<double> times;
    DensityGrid grid;
    for (int repeat = 0; repeat < 7; ++repeat) {
      QElapsedTimer timer;
      timer.start();
      grid = kept_magnitude_share(weights, selection, 0, rows, 0, cols, 400, 1000, 4);
      times.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    qInfo("kept_magnitude_share of %lldx%lld into %lldx%lld blocks of %lldx%lld: median %.1f ms (min %.1f, max %.1f)",
          (long long)rows, (long long)cols, (long long)grid.grid_rows, (long long)grid.grid_cols,
          (long long)grid.block_rows, (long long)grid.block_cols, times[times.size() / 2], times.front(), times.back());
    QVERIFY(times[times.size() / 2] < 1000);  // generous: the aim is < 40 ms on two cores
    const auto [lowest, highest] = std::minmax_element(grid.kept_fraction.begin(), grid.kept_fraction.end());
    QVERIFY(*lowest > 0.5f && *highest < 1.0f);  // 2:4 keeps the larger half: more than half of |w|, never all

    QElapsedTimer timer;
    timer.start();
    const auto shares = row_kept_magnitude_share(weights, selection, false);
    qInfo("row_kept_magnitude_share of %lldx%lld: %.1f ms", (long long)rows, (long long)cols,
          double(timer.nsecsElapsed()) / 1e6);
    QCOMPARE(int64_t(shares.size()), rows);
  }

  void kept_window_matches_brute_force_data() { add_pattern_rows(); }
  void kept_window_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 11;
    const NMSelection selection = magnitude_selection(rows, cols, NMPattern{kept, group}, 5);
    const auto mask = brute_force_mask(selection);
    QCOMPARE(kept_mask(selection, 0, rows, 0, cols), mask);
    const auto window = kept_mask(selection, 2, 5, 3, cols);  // clipped on the right
    QCOMPARE(int64_t(window.size()), 5 * (cols - 3));
    for (int64_t row = 0; row < 5; ++row)
      for (int64_t col = 0; col < cols - 3; ++col)
        QCOMPARE(window[size_t(row * (cols - 3) + col)], mask[size_t((row + 2) * cols + col + 3)]);
  }

  void row_fraction_matches_brute_force_data() { add_pattern_rows(); }
  void row_fraction_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 13;
    const NMSelection selection = magnitude_selection(rows, cols, NMPattern{kept, group}, 9);
    const auto mask = brute_force_mask(selection);
    const auto fractions = row_kept_fraction(selection);
    QCOMPARE(int64_t(fractions.size()), rows);
    double sum = 0;
    for (int64_t row = 0; row < rows; ++row) {
      int64_t kept_in_row = 0;
      for (int64_t col = 0; col < cols; ++col) kept_in_row += mask[size_t(row * cols + col)];
      QCOMPARE(fractions[size_t(row)], double(kept_in_row) / double(cols));
      sum += fractions[size_t(row)];
    }
    QVERIFY(std::abs(sum / double(rows) - selection.kept_fraction()) < 1e-12);
  }

  void histogram_matches_brute_force_data() { add_pattern_rows(); }
  void histogram_matches_brute_force() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const int64_t rows = 29;
    const NMSelection selection = magnitude_selection(rows, cols, NMPattern{kept, group}, 11);
    const int effective_group = selection.pattern.group_size;
    const int effective_kept = selection.pattern.kept_per_group;
    const auto mask = brute_force_mask(selection);
    std::map<uint32_t, int64_t> expected;
    const int64_t full_groups = cols / effective_group;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t g = 0; g < full_groups; ++g) {
        uint32_t bits = 0;
        for (int position = 0; position < effective_group; ++position)
          if (mask[size_t(row * cols + g * effective_group + position)]) bits |= uint32_t(1) << position;
        ++expected[bits];
      }
    const KeepPatternHistogram histogram = keep_pattern_histogram(selection);
    QCOMPARE(histogram.kept_per_group, effective_kept);
    QCOMPARE(histogram.group_size, effective_group);
    QCOMPARE(histogram.masks.size(), histogram.counts.size());
    QVERIFY(std::is_sorted(histogram.masks.begin(), histogram.masks.end()));
    QVERIFY(std::adjacent_find(histogram.masks.begin(), histogram.masks.end()) == histogram.masks.end());
    int64_t total = 0;
    for (size_t index = 0; index < histogram.masks.size(); ++index) {
      QCOMPARE(std::popcount(histogram.masks[index]), effective_kept);
      const auto found = expected.find(histogram.masks[index]);
      QCOMPARE(histogram.counts[index], found == expected.end() ? int64_t(0) : found->second);
      total += histogram.counts[index];
    }
    QCOMPARE(total, rows * full_groups);
    const int64_t possible = keep_pattern_count(effective_kept, effective_group);
    if (possible <= KeepPatternHistogram::kListAllLimit)
      QCOMPARE(int64_t(histogram.masks.size()), possible);
    else
      QCOMPARE(histogram.masks.size(), expected.size());
  }

  void two_of_four_has_six_patterns() {
    const KeepPatternHistogram histogram = keep_pattern_histogram(magnitude_selection(64, 256, NMPattern{2, 4}));
    QCOMPARE(histogram.masks, (std::vector<uint32_t>{0b0011, 0b0101, 0b0110, 0b1001, 0b1010, 0b1100}));
    for (const int64_t count : histogram.counts) QVERIFY(count > 0);  // random weights use every pattern
    QCOMPARE(keep_pattern_count(2, 4), int64_t(6));
    QCOMPARE(keep_pattern_count(4, 8), int64_t(70));
    QCOMPARE(keep_pattern_count(16, 32), int64_t(601080390));
    QCOMPARE(int64_t(keep_pattern_histogram(magnitude_selection(4, 64, NMPattern{4, 8})).masks.size()), int64_t(70));
  }

  void large_pattern_spaces_list_only_what_occurs() {
    // C(16, 8) = 12870 > kListAllLimit: only occurring masks, at most one per group.
    const KeepPatternHistogram histogram = keep_pattern_histogram(magnitude_selection(10, 64, NMPattern{8, 16}));
    QVERIFY(!histogram.masks.empty());
    QVERIFY(int64_t(histogram.masks.size()) <= 10 * 4);
    for (const int64_t count : histogram.counts) QVERIFY(count > 0);
  }

  void identical_weights_give_one_pattern() {
    MatrixF weights(3, 8);
    weights.setOnes();  // ties keep the lower index: positions 0 and 1 everywhere
    const KeepPatternHistogram histogram =
        keep_pattern_histogram(select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude));
    QCOMPARE(histogram.counts, (std::vector<int64_t>{6, 0, 0, 0, 0, 0}));
  }

  void agreement_matches_brute_force() {
    const int64_t rows = 31, cols = 70;
    const MatrixF weights = random_matrix(rows, cols, 17);
    const MatrixF activations = random_matrix(8, cols, 18) * 3.0f;
    const VectorF norms = activation_column_norms(activations);
    const NMSelection magnitude = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    const NMSelection wanda = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Wanda, &norms);
    QCOMPARE(mask_agreement(magnitude, magnitude), 1.0);
    QCOMPARE(mask_agreement(wanda, wanda), 1.0);
    const auto a = brute_force_mask(magnitude), b = brute_force_mask(wanda);
    int64_t shared = 0, kept = 0;
    for (size_t index = 0; index < a.size(); ++index) {
      shared += a[index] & b[index];
      kept += a[index];
    }
    const double agreement = mask_agreement(magnitude, wanda);
    QCOMPARE(agreement, double(shared) / double(kept));
    QCOMPARE(mask_agreement(wanda, magnitude), agreement);
    QVERIFY(agreement > 0.3 && agreement < 1.0);

    // Different group sizes compare column by column: 2:8 keeps fewer, so the share is over the 2:4 count.
    const NMSelection sparser = select_nm(weights, NMPattern{2, 8}, PruningCriterion::Magnitude);
    const auto c = brute_force_mask(sparser);
    int64_t shared_with_sparser = 0;
    for (size_t index = 0; index < a.size(); ++index) shared_with_sparser += a[index] & c[index];
    QCOMPARE(mask_agreement(magnitude, sparser), double(shared_with_sparser) / double(kept));

    // A dense selection shares every kept weight of the 2:4 one, which keeps 17 * 2 + 2 (the whole 2-column tail)
    // of 70 per row.
    const NMSelection dense = select_nm(weights, NMPattern::dense(), PruningCriterion::Magnitude);
    QCOMPARE(mask_agreement(dense, magnitude), 36.0 / 70.0);
    QVERIFY_THROWS_EXCEPTION(Error, mask_agreement(magnitude, magnitude_selection(rows, cols + 1, NMPattern{2, 4})));
  }

  void keep_everything_selections_keep_everything() {
    for (const NMPattern pattern : {NMPattern::dense(), NMPattern{4, 4}}) {
      const NMSelection selection = magnitude_selection(5, 10, pattern);
      QVERIFY(selection.kept_positions.empty());
      const DensityGrid grid = mask_density(selection, 0, 5, 0, 10, 2, 3);
      for (const float fraction : grid.kept_fraction) QCOMPARE(fraction, 1.0f);
      const MatrixF weights = random_matrix(5, 10, 3);
      const DensityGrid shares = kept_magnitude_share(weights, selection, 0, 5, 0, 10, 2, 3);
      QCOMPARE(shares.kept_fraction, std::vector<float>(size_t(shares.grid_rows * shares.grid_cols), 1.0f));
      for (const bool squared : {false, true})
        QCOMPARE(row_kept_magnitude_share(weights, selection, squared), std::vector<double>(5, 1.0));
      for (const double fraction : row_kept_fraction(selection)) QCOMPARE(fraction, 1.0);
      QCOMPARE(kept_mask(selection, 0, 5, 0, 10), std::vector<uint8_t>(50, 1));
      const KeepPatternHistogram histogram = keep_pattern_histogram(selection);
      QCOMPARE(histogram.masks.size(), size_t(1));
      QCOMPARE(histogram.counts.front(), 5 * (10 / pattern.group_size));
      QCOMPARE(mask_agreement(selection, selection), 1.0);
    }
  }
};

QTEST_APPLESS_MAIN(TestMaskStatistics)
#include "test_mask_statistics.moc"
