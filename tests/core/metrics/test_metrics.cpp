// Error figures of docs/conventions.md against values computed by hand, and the portable synthetic activations.
#include <QtTest>
#include <cmath>

#include "nmscope/metrics.hpp"

using namespace nmscope;

class TestMetrics final : public QObject {
  Q_OBJECT

 private slots:
  void exact_reconstruction_has_zero_error_and_infinite_sqnr() {
    const MatrixF weights = synthetic_activations(130, 70, 5);  // any matrix
    const OutputReference reference(weights, synthetic_activations(16, 70, 9));
    const AccuracyFigures figures = measure_accuracy(weights, weights, reference);
    QCOMPARE(figures.weight_rel_err, 0.0);
    QCOMPARE(figures.output_rel_err, 0.0);
    QVERIFY(std::isinf(figures.sqnr_db) && figures.sqnr_db > 0);
  }

  void scaled_weights_give_the_scale_error() {
    // W_hat = 0.9 W: both errors are exactly 0.1 and sqnr is 20 dB; 200 rows span several blocks.
    const MatrixF weights = synthetic_activations(200, 33, 1);
    const MatrixF approximation = weights * 0.9f;
    const OutputReference reference(weights, synthetic_activations(16, 33, 2));
    const AccuracyFigures figures = measure_accuracy(weights, approximation, reference);
    QVERIFY(std::fabs(figures.weight_rel_err - 0.1) < 1e-6);
    QVERIFY(std::fabs(figures.output_rel_err - 0.1) < 1e-6);
    QVERIFY(std::fabs(figures.sqnr_db - 20.0) < 1e-4);
  }

  void output_error_is_measured_on_the_given_activations() {
    // Only column 1 differs; activations that never touch column 1 see no output error.
    MatrixF weights(2, 2);
    weights << 1, 2, 3, 4;
    MatrixF approximation = weights;
    approximation(0, 1) = 0;
    MatrixF blind(1, 2);
    blind << 1, 0;
    const AccuracyFigures none = measure_accuracy(weights, approximation, OutputReference(weights, blind));
    QCOMPARE(none.output_rel_err, 0.0);
    QVERIFY(std::fabs(none.weight_rel_err - 2.0 / std::sqrt(30.0)) < 1e-12);
    MatrixF seeing(1, 2);
    seeing << 0, 1;  // y = [2, 4] vs [0, 4]
    const AccuracyFigures some = measure_accuracy(weights, approximation, OutputReference(weights, seeing));
    QVERIFY(std::fabs(some.output_rel_err - 2.0 / std::sqrt(20.0)) < 1e-12);
  }

  void reference_product_and_relative_error() {
    MatrixF x(1, 3);
    x << 1, 2, 3;
    MatrixF w(2, 3);
    w << 1, 0, 0, 0, 1, 1;
    const MatrixD product = reference_product(x, w);
    QCOMPARE(product(0, 0), 1.0);
    QCOMPARE(product(0, 1), 5.0);
    MatrixF approx(1, 2);
    approx << 1, 4;
    QVERIFY(std::fabs(relative_error(product, approx) - 1.0 / std::sqrt(26.0)) < 1e-12);
  }

  void synthetic_activations_are_standard_normal_and_reproducible() {
    const MatrixF a = synthetic_activations(64, 512, 42);
    const MatrixF b = synthetic_activations(64, 512, 42);
    QVERIFY(a == b);
    QVERIFY(a != synthetic_activations(64, 512, 43));
    const double mean = a.cast<double>().mean();
    const double variance = (a.cast<double>().array() - mean).square().mean();
    QVERIFY(std::fabs(mean) < 0.02);
    QVERIFY(std::fabs(variance - 1.0) < 0.03);
    // Fixed bits, not just fixed statistics: the same on every machine and standard library.
    QCOMPARE(synthetic_activations(1, 1, 42)(0, 0), a(0, 0));
  }
};

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
