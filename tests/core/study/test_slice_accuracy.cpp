// The model study's streamed figures (study/slice_accuracy.cpp: the error straight from the codes, X read once for four
// rows, a reciprocal instead of a division) against the whole-matrix path they replace (compress, dequantize,
// reference_block_sums, error_block_sums), to the bit, over patterns, bit widths, granularities, both grids, odd K,
// odd row counts, quotients exactly on a half-integer and zero scales; and a model study of preset layers giving the
// same rows through either path and with any number of threads.
#include <tbb/global_control.h>

#include <QtTest>
#include <cmath>
#include <map>

#include "nmscope/half.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/model_layer_study.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/synthetic.hpp"
#include "study/slice_accuracy.hpp"

using namespace nmscope;

namespace {

// The whole-matrix path's sums of one block.
SliceSums reference_sums(const MatrixF& weights, const std::vector<SliceConfiguration>& configurations,
                         PruningCriterion criterion, const VectorF* norms, const MatrixD& activations) {
  SliceSums sums;
  sums.reference = reference_block_sums(weights, activations).front();
  for (const auto& configuration : configurations) {
    const NMSelection selection = select_nm(weights, configuration.pattern, criterion, norms);
    sums.errors.push_back(
        error_block_sums(weights, dequantize(compress(weights, selection, configuration.quant)), activations).front());
  }
  return sums;
}

QuantConfig quant(int bits, Granularity granularity, int group, bool symmetric) {
  QuantConfig config;
  config.bits = bits;
  config.granularity = granularity;
  config.group = group;
  config.symmetric = symmetric;
  return config;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// LLM-like values with outlier columns, some exact zeros, quotients exactly on half-integers (the reciprocal's
// fallback to division) and a row of zeros (every scale zero).
MatrixF awkward_weights(int64_t rows, int64_t cols, uint64_t seed) {
  MatrixF weights = synthetic_activations(rows, cols, seed) * 0.02f;
  for (int64_t col = 0; col < cols; col += 11) weights.col(col) *= 17.0f;
  for (int64_t row = 0; row < rows; row += 5) weights(row, (row * 7) % cols) = 0.0f;
  // Rows 3 and 4: w = (n + 1/2) s exactly, and column 0 = 7 s fixes s as the scale of the int4 symmetric groups that
  // hold it (per channel: the whole row). For these two fp16 scales w times the rounded reciprocal of s misses
  // -s/2 on the wrong side (found by search), so the row is right only through the fallback to division.
  for (int64_t row = 3; row < std::min<int64_t>(rows, 5); ++row) {
    const float scale = half_bits_to_float(row == 3 ? 0x2062 : 0x207f);
    for (int64_t col = 0; col < cols; ++col) weights(row, col) = (float((col % 14) - 7) + 0.5f) * scale;
    weights(row, 0) = 7 * scale;
  }
  if (rows > 6) weights.row(6).setZero();  // every scale zero
  return weights;
}

}  // namespace

class TestSliceAccuracy final : public QObject {
  Q_OBJECT

 private slots:
  void slice_sums_equal_the_whole_matrix_sums_to_the_bit() {
    const std::vector<NMPattern> patterns = {NMPattern::parse("dense"), NMPattern::parse("2:4"), NMPattern::parse("1:4"),
                                             NMPattern::parse("4:8"), NMPattern::parse("2:8"), NMPattern::parse("3:7"),
                                             NMPattern::parse("5:32")};
    std::vector<QuantConfig> quants;
    for (int bits : {2, 3, 4, 8})
      for (bool symmetric : {true, false}) {
        quants.push_back(quant(bits, Granularity::Group, 128, symmetric));
        quants.push_back(quant(bits, Granularity::Group, 36, symmetric));
        quants.push_back(quant(bits, Granularity::Group, 7, symmetric));
        quants.push_back(quant(bits, Granularity::Channel, 128, symmetric));
      }
    quants.push_back(quant(16, Granularity::Group, 128, true));
    std::vector<SliceConfiguration> configurations;
    for (const auto& pattern : patterns)
      for (const auto& config : quants) configurations.push_back({pattern, config});

    int compared = 0;
    for (const auto& [rows, cols, tokens] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {64, 301, 16}, {63, 256, 16}, {9, 203, 5}, {1, 64, 16}}) {
      const MatrixF weights = awkward_weights(rows, cols, uint64_t(rows * 1000 + cols));
      const MatrixF x = synthetic_activations(tokens, cols, 77);
      const MatrixD activations = x.cast<double>();
      const VectorF norms = activation_column_norms(x);
      for (PruningCriterion criterion : {PruningCriterion::Magnitude, PruningCriterion::Wanda}) {
        const VectorF* input_norms = criterion == PruningCriterion::Wanda ? &norms : nullptr;
        const SliceSums expected = reference_sums(weights, configurations, criterion, input_norms, activations);
        const SliceSums actual =
            slice_accuracy_sums(weights, configurations, criterion, input_norms, ColumnMajorD(activations));
        QVERIFY(actual.finite);
        QVERIFY(same_bits(actual.reference.weight, expected.reference.weight));
        QVERIFY(same_bits(actual.reference.output, expected.reference.output));
        for (size_t index = 0; index < configurations.size(); ++index) {
          const QByteArray where = QByteArray::fromStdString(
              std::to_string(rows) + "x" + std::to_string(cols) + " " + configurations[index].pattern.to_string() +
              " int" + std::to_string(configurations[index].quant.bits) + " " +
              configurations[index].quant.granularity_name() + (configurations[index].quant.symmetric ? " sym" : " asym"));
          QVERIFY2(same_bits(actual.errors[index].weight_diff, expected.errors[index].weight_diff), where.constData());
          QVERIFY2(same_bits(actual.errors[index].output_diff, expected.errors[index].output_diff), where.constData());
          ++compared;
        }
      }
    }
    QVERIFY(compared > 1000);
  }

  void a_block_with_nan_is_reported_not_measured() {
    MatrixF weights = awkward_weights(8, 40, 3);
    weights(5, 17) = std::nanf("");
    const SliceSums sums = slice_accuracy_sums(weights, {{NMPattern::parse("2:4"), quant(4, Granularity::Group, 128, true)}},
                                               PruningCriterion::Magnitude, nullptr,
                                               ColumnMajorD(synthetic_activations(16, 40, 1).cast<double>()));
    QVERIFY(!sums.finite);
  }

  // Preset layers (LLaMA-3-8B's k and v projections of block 0, 1024 x 4096, and its down projection of block 1 cut to
  // a regex) through the streamed path with two threads and with one, and through the whole-matrix path (a job filter
  // keeps the runner off the streamed path): the same rows to the bit.
  void preset_layers_give_the_reference_path_rows_with_any_thread_count() {
    ModelLayerStudySpec spec;
    spec.preset = "llama-3-8b";
    spec.layers = "layers\\.0\\.self_attn\\.[kv]_proj";
    spec.study.patterns = {NMPattern::parse("2:4"), NMPattern::parse("dense")};
    spec.study.bits = {4, 8};
    spec.study.engines = "none";
    const ModelLayerPlan plan = plan_model_layer_study(spec);
    const ModelLayerStudyResult streamed = run_model_layer_study(plan, nullptr, {});
    ModelLayerStudyResult one_thread;  // filled under a one-thread limit
    {
      tbb::global_control single(tbb::global_control::max_allowed_parallelism, 1);
      one_thread = run_model_layer_study(plan, nullptr, {});
    }
    ModelLayerPlan whole_plan = plan;
    whole_plan.study.include_job = [](const NMPattern&, int, const std::string&, int) { return true; };
    const ModelLayerStudyResult whole = run_model_layer_study(whole_plan, nullptr, {});
    QCOMPARE(streamed.rows.size(), std::size_t{2 * 2 * 2});
    for (const ModelLayerStudyResult* other : {static_cast<const ModelLayerStudyResult*>(&one_thread), &whole}) {
      QCOMPARE(other->rows.size(), streamed.rows.size());
      for (size_t index = 0; index < streamed.rows.size(); ++index) {
        const Measurement& a = streamed.rows[index];
        const Measurement& b = other->rows[index];
        QCOMPARE(a.tensor, b.tensor);
        QCOMPARE(a.pattern, b.pattern);
        QCOMPARE(a.quant.bits, b.quant.bits);
        QVERIFY(same_bits(a.weight_rel_err, b.weight_rel_err));
        QVERIFY(same_bits(a.output_rel_err, b.output_rel_err));
        QVERIFY(same_bits(a.sqnr_db, b.sqnr_db));
        QCOMPARE(a.storage_bytes, b.storage_bytes);
        QCOMPARE(a.source_hash, b.source_hash);
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestSliceAccuracy)
#include "test_slice_accuracy.moc"
