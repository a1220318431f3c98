// Every gpu/ variant against the double-precision product of the same quantized weights (docs/gpu-kernels.md,
// "Accuracy": relative error < 2e-3), on shapes with tails and batches that reach every kernel configuration
// (small-batch tiles with split-K, large tiles). Outputs are poisoned with NaN before the checked call, so an
// element no CTA writes fails the test. Skips where there is no GPU (CI); runs for real on the device.
#include <QtTest>
#include <random>

#include "nmscope/engine_registry.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"
#include "quant/kernel_view.hpp"

using namespace nmscope;

namespace {

constexpr double kGpuLimit = 2e-3;

MatrixF random_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  return matrix;
}

// Where a wrong plan goes wrong: the largest error by output row within a 64-row slice (a warp's rows or a fragment
// register) and by batch column within a 256-column tile (a core matrix or an n8 block of operand B).
QString error_pattern(const MatrixD& reference, const MatrixF& y) {
  std::vector<double> by_row(64, 0.0), by_column(256, 0.0);
  for (int64_t b = 0; b < y.rows(); ++b)
    for (int64_t r = 0; r < y.cols(); ++r) {
      const double error = std::abs(double(y(b, r)) - reference(b, r));
      by_row[size_t(r % 64)] = std::max(by_row[size_t(r % 64)], error);
      by_column[size_t(b % 256)] = std::max(by_column[size_t(b % 256)], error);
    }
  auto bad = [](const std::vector<double>& errors) {
    QStringList list;
    for (size_t i = 0; i < errors.size(); ++i)
      if (!(errors[i] < 0.5)) list << QString::number(i);
    return list.join(',');
  };
  return QString("; rows mod 64 off: [%1]; columns mod 256 off: [%2]").arg(bad(by_row), bad(by_column));
}

}  // namespace

// A macro, so QSKIP returns from the test function itself.
#define SKIP_WITHOUT_GPU()                                                                        \
  do {                                                                                            \
    const auto& status = kernels::cuda::device_status();                                          \
    if (!status.available) QSKIP(qPrintable("no GPU: " + QString::fromStdString(status.reason))); \
  } while (false)

class TestGpuEngines final : public QObject {
  Q_OBJECT

 private slots:
  void every_gpu_variant_is_listed() {
    // Listed with or without a GPU, so the front ends can say why one cannot run.
    for (const char* name : {"gpu/cublas-fp16-dense", "gpu/cusparselt-fp16-2:4", "gpu/int4-dense", "gpu/int4-2:4",
                             "gpu/int4-nm", "gpu/int8-2:4", "gpu/int2-dense", "gpu/int3-nm"})
      QVERIFY2(EngineRegistry::global().find(name), name);
    const Engine* engine = EngineRegistry::global().find("gpu/int4-2:4");
    if (!kernels::cuda::device_status().available) {
      QVERIFY(!engine->availability().available);
      QVERIFY(!engine->availability().reason.empty());
    }
  }

  void metadata_order_is_found() {
    SKIP_WITHOUT_GPU();
    kernels::cuda::MetadataOrder order;
    std::string reason;
    QVERIFY2(kernels::cuda::probe_metadata_order(order, reason), reason.c_str());
    qInfo("mma.sp metadata order on this device: %d", int(order));
  }

  // The engines run the fastest plan of each batch; every other candidate must be right as well, since another
  // card or layer may pick it.
  void every_plan_matches_the_reference_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("batch");
    for (const char* pattern : {"2:4", "dense"})
      for (int bits : {4, 8, 2})
        for (int batch : {1, 5, 16, 30, 64, 200, 600})
          QTest::newRow(qPrintable(QString("%1 int%2 b%3").arg(pattern).arg(bits).arg(batch)))
              << QString(pattern) << bits << batch;
  }
  void every_plan_matches_the_reference() {
    SKIP_WITHOUT_GPU();
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, batch);
    const NMPattern nm = NMPattern::parse(pattern.toStdString());
    QuantConfig quant;
    quant.bits = bits;
    const MatrixF weights = random_matrix(300, 1100, unsigned(bits * 31 + batch));
    const PackedMatrix packed = compress(weights, select_nm(weights, nm, PruningCriterion::Magnitude), quant);
    const MatrixD reference = reference_product(random_matrix(batch, 1100, unsigned(batch)), dequantize(packed));
    const MatrixF activations = random_matrix(batch, 1100, unsigned(batch));
    kernels::cuda::MetadataOrder order;
    std::string reason;
    QVERIFY2(kernels::cuda::probe_metadata_order(order, reason), reason.c_str());
    const auto path =
        nm.keeps_everything() ? kernels::cuda::TensorCorePath::Dense : kernels::cuda::TensorCorePath::Sparse24;
    const auto layout = kernels::cuda::make_gpu_layout(kernel_view(packed), path, order);
    kernels::cuda::GpuTimingSpec timing;
    timing.warmup = 1;
    timing.min_repetitions = 1;
    timing.max_repetitions = 2;
    timing.target_seconds = 0.001;
    int plans = 1;
    QStringList wrong;  // every failing plan is named, not only the first
    for (int plan = 0; plan < plans; ++plan) {
      timing.plan = plan;
      const auto run = kernels::cuda::run_packed(layout, activations.data(), batch, timing);
      QVERIFY2(run.ok, run.error.c_str());
      plans = run.plans;
      MatrixF y(batch, 300);
      for (int64_t index = 0; index < y.size(); ++index) y(index / 300, index % 300) = run.output[size_t(index)];
      const double error = relative_error(reference, y);
      if (!(error < kGpuLimit))
        wrong << QString("plan %1 (%2): rel err %3").arg(plan).arg(QString::fromStdString(run.config)).arg(error) +
                     error_pattern(reference, y);
    }
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong.join("\n")));
  }

  void variants_match_the_reference_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("batch");
    struct Case {
      const char* pattern;
      int bits, rows, cols, batch;
    };
    const Case cases[] = {
        {"2:4", 4, 300, 1000, 1},    {"2:4", 4, 256, 512, 16},   {"2:4", 4, 130, 777, 200},   {"2:4", 8, 200, 300, 7},
        {"2:4", 8, 128, 256, 130},   {"2:4", 2, 99, 640, 3},     {"2:4", 3, 64, 320, 33},     {"dense", 4, 333, 555, 1},
        {"dense", 4, 256, 1024, 64}, {"dense", 8, 100, 200, 12}, {"dense", 2, 140, 300, 150}, {"dense", 3, 50, 129, 9},
        {"1:4", 4, 200, 512, 5},     {"2:8", 4, 150, 400, 40},   {"1:8", 8, 77, 300, 2},      {"4:8", 4, 128, 512, 20},
        {"4:8", 2, 128, 256, 256},   {"3:4", 8, 60, 100, 1},
    };
    for (const Case& c : cases)
      QTest::newRow(
          qPrintable(QString("%1 int%2 %3x%4 b%5").arg(c.pattern).arg(c.bits).arg(c.rows).arg(c.cols).arg(c.batch)))
          << QString(c.pattern) << c.bits << c.rows << c.cols << c.batch;
  }
  void variants_match_the_reference() {
    SKIP_WITHOUT_GPU();
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, batch);
    const NMPattern nm = NMPattern::parse(pattern.toStdString());
    QuantConfig quant;
    quant.bits = bits;
    const MatrixF weights = random_matrix(rows, cols, unsigned(rows + cols * 7 + bits));
    const PackedMatrix packed = compress(weights, select_nm(weights, nm, PruningCriterion::Magnitude), quant);
    const MatrixF dequantized = dequantize(packed);
    const MatrixF activations = random_matrix(batch, cols, unsigned(batch * 13 + 1));
    const MatrixD reference = reference_product(activations, dequantized);
    TimingOptions timing;
    timing.warmup = 1;
    timing.min_repetitions = 2;
    timing.max_repetitions = 3;
    timing.target_seconds = 0.001;
    const EngineInput input{weights, packed, dequantized, activations, reference, timing, nullptr};
    int ran = 0;
    for (const Engine* engine : EngineRegistry::global().select("gpu")) {
      if (!engine->supports(nm, quant, nullptr) || !engine->availability().available) continue;
      const EngineOutput output = engine->run(input);
      QVERIFY2(output.status == "ok", qPrintable(QString::fromStdString(engine->name() + ": " + output.note)));
      QVERIFY(output.engine_rel_err.has_value());
      QVERIFY2(*output.engine_rel_err < kGpuLimit,
               qPrintable(
                   QString("%1: rel err %2").arg(QString::fromStdString(engine->name())).arg(*output.engine_rel_err)));
      QVERIFY(output.time && output.time->median_us > 0);
      ++ran;
    }
    QVERIFY(ran >= 2);  // the cuBLAS baseline and at least one own kernel
  }
};

QTEST_GUILESS_MAIN(TestGpuEngines)
#include "test_gpu_engines.moc"
