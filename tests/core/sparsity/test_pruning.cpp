// N:M selection: exactly N per group, the top-N scores, ties to the lower index, tail padding, wanda scores.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "nmscope/error.hpp"
#include "nmscope/pruning.hpp"

using namespace nmscope;

namespace {

MatrixF random_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  return matrix;
}

// The kept columns of one group by a plain sort: score descending, then index ascending (the tie rule).
std::vector<int64_t> expected_kept(const std::vector<std::pair<float, int64_t>>& scored, int kept) {
  auto sorted = scored;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int64_t> columns;
  for (int index = 0; index < kept && index < int(sorted.size()); ++index) columns.push_back(sorted[index].second);
  std::sort(columns.begin(), columns.end());
  return columns;
}

}  // namespace

class TestPruning final : public QObject {
  Q_OBJECT

 private slots:
  void keeps_the_top_n_of_every_group_data() {
    QTest::addColumn<int>("kept");
    QTest::addColumn<int>("group");
    QTest::addColumn<int>("cols");
    QTest::newRow("2:4") << 2 << 4 << 64;
    QTest::newRow("2:4 tail") << 2 << 4 << 67;
    QTest::newRow("1:4 tail") << 1 << 4 << 65;
    QTest::newRow("4:8") << 4 << 8 << 70;
    QTest::newRow("2:8") << 2 << 8 << 64;
    QTest::newRow("3:7") << 3 << 7 << 50;
    QTest::newRow("5:32") << 5 << 32 << 100;
  }
  void keeps_the_top_n_of_every_group() {
    QFETCH(int, kept);
    QFETCH(int, group);
    QFETCH(int, cols);
    const MatrixF weights = random_matrix(9, cols, 7);
    const NMSelection selection = select_nm(weights, NMPattern{kept, group}, PruningCriterion::Magnitude);
    QCOMPARE(selection.groups_per_row, int64_t((cols + group - 1) / group));
    QCOMPARE(int64_t(selection.kept_positions.size()), 9 * selection.groups_per_row * kept);
    for (int64_t row = 0; row < 9; ++row) {
      for (int64_t g = 0; g < selection.groups_per_row; ++g) {
        std::vector<std::pair<float, int64_t>> scored;
        for (int64_t col = g * group; col < std::min<int64_t>(cols, (g + 1) * group); ++col)
          scored.push_back({std::fabs(weights(row, col)), col});
        const auto expected = expected_kept(scored, kept);
        std::vector<int64_t> actual;
        for (int slot = 0; slot < kept; ++slot) {
          const int64_t col = selection.column(row, g * kept + slot);
          if (slot > 0) QVERIFY(col > selection.column(row, g * kept + slot - 1));  // ascending, distinct
          if (col < cols) actual.push_back(col);
        }
        QCOMPARE(actual, expected);
      }
    }
  }

  // Scores from a handful of values, so most groups hold ties: every fast path (2:4 has its own) must keep the same
  // positions as the plain sort.
  void many_ties_keep_the_sorted_choice() {
    MatrixF weights = random_matrix(16, 203, 11);
    for (int64_t index = 0; index < weights.size(); ++index)
      weights.data()[index] = std::round(weights.data()[index] * 2.0f) / 2.0f;
    for (const NMPattern pattern : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{3, 4}, NMPattern{4, 8}, NMPattern{3, 7}}) {
      const NMSelection selection = select_nm(weights, pattern, PruningCriterion::Magnitude);
      for (int64_t row = 0; row < weights.rows(); ++row)
        for (int64_t g = 0; g < selection.groups_per_row; ++g) {
          std::vector<std::pair<float, int64_t>> scored;
          for (int64_t col = g * pattern.group_size; col < std::min<int64_t>(weights.cols(), (g + 1) * pattern.group_size);
               ++col)
            scored.push_back({std::fabs(weights(row, col)), col});
          std::vector<int64_t> actual;
          for (int slot = 0; slot < pattern.kept_per_group; ++slot) {
            const int64_t col = selection.column(row, g * pattern.kept_per_group + slot);
            if (col < weights.cols()) actual.push_back(col);
          }
          QCOMPARE(actual, expected_kept(scored, pattern.kept_per_group));
        }
    }
  }

  void ties_keep_the_lower_index() {
    MatrixF weights(1, 8);
    weights << 1, -1, 1, 1, 0.5f, 0.5f, -0.5f, 0.5f;
    const NMSelection selection = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    QCOMPARE(selection.column(0, 0), int64_t(0));
    QCOMPARE(selection.column(0, 1), int64_t(1));
    QCOMPARE(selection.column(0, 2), int64_t(4));
    QCOMPARE(selection.column(0, 3), int64_t(5));
    // All zeros: still exactly N kept, the lowest positions.
    const NMSelection zeros = select_nm(MatrixF::Zero(1, 4), NMPattern{2, 4}, PruningCriterion::Magnitude);
    QCOMPARE(zeros.column(0, 0), int64_t(0));
    QCOMPARE(zeros.column(0, 1), int64_t(1));
  }

  void padding_is_kept_only_when_the_tail_is_too_short() {
    MatrixF weights(1, 5);
    weights << 1, 2, 3, 4, 0.25f;  // tail group: one real column (4), three padding columns
    const NMSelection selection = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    QCOMPARE(selection.column(0, 2), int64_t(4));
    QCOMPARE(selection.column(0, 3), int64_t(5));  // padding, never a real kept value
    QCOMPARE(selection.kept_fraction(), 3.0 / 5.0);
  }

  void wanda_weighs_by_input_norms() {
    MatrixF weights(1, 4);
    weights << 1.0f, 0.9f, 0.2f, 0.15f;
    VectorF norms(4);
    norms << 1.0f, 1.0f, 10.0f, 10.0f;  // the small weights see large activations
    const NMSelection magnitude = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    const NMSelection wanda = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Wanda, &norms);
    QCOMPARE(magnitude.column(0, 0), int64_t(0));
    QCOMPARE(magnitude.column(0, 1), int64_t(1));
    QCOMPARE(wanda.column(0, 0), int64_t(2));
    QCOMPARE(wanda.column(0, 1), int64_t(3));
  }

  void wanda_without_or_with_mismatched_norms_is_refused() {
    const MatrixF weights = random_matrix(2, 8, 1);
    try {
      select_nm(weights, NMPattern{2, 4}, PruningCriterion::Wanda);
      QFAIL("wanda ran without activations");
    } catch (const Error& error) {
      QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Criterion);
    }
    VectorF wrong(7);
    wrong.setOnes();
    QVERIFY_THROWS_EXCEPTION(Error, select_nm(weights, NMPattern{2, 4}, PruningCriterion::Wanda, &wrong));
  }

  void activation_norms_are_column_l2_norms() {
    MatrixF activations(2, 3);
    activations << 3, 0, 1, 4, 2, -1;
    const VectorF norms = activation_column_norms(activations);
    QCOMPARE(norms[0], 5.0f);
    QCOMPARE(norms[1], 2.0f);
    QCOMPARE(norms[2], float(std::sqrt(2.0)));
  }

  void dense_and_full_groups_store_no_positions() {
    const MatrixF weights = random_matrix(3, 10, 2);
    QVERIFY(select_nm(weights, NMPattern::dense(), PruningCriterion::Magnitude).kept_positions.empty());
    const NMSelection full = select_nm(weights, NMPattern{4, 4}, PruningCriterion::Magnitude);
    QVERIFY(full.kept_positions.empty());
    QCOMPARE(full.column(1, 7), int64_t(7));
    QCOMPARE(full.kept_fraction(), 1.0);
  }

  void criterion_names_round_trip() {
    QCOMPARE(parse_criterion("wanda"), PruningCriterion::Wanda);
    QCOMPARE(criterion_name(parse_criterion("magnitude")), std::string("magnitude"));
    QVERIFY_THROWS_EXCEPTION(Error, parse_criterion("sparsegpt-typo"));
  }
};

QTEST_APPLESS_MAIN(TestPruning)
#include "test_pruning.moc"
