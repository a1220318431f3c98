// SparseGPT / GPTQ on one layer: with an identity Hessian they reduce exactly to magnitude masks and round-to-nearest
// (no correlations to exploit); on correlated inputs they beat the first-order criteria on output error, which is
// what they are for; a Hessian that cannot be factored falls back with a note and never yields NaN.
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <QtTest/QtTest>
#include <random>

#include "nmscope/second_order.hpp"

using namespace nmscope;

namespace {

MatrixF normal_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  MatrixF matrix(rows, cols);
  for (Eigen::Index i = 0; i < matrix.size(); ++i) matrix.data()[i] = normal(generator);
  return matrix;
}

// Calibration inputs whose columns are strongly correlated and unevenly scaled, as real activations are.
MatrixF correlated_inputs(int64_t tokens, int64_t cols, unsigned seed) {
  MatrixF mixing = normal_matrix(cols, cols, seed + 1) * 0.3f + MatrixF::Identity(cols, cols);
  MatrixF inputs = normal_matrix(tokens, 8, seed) * normal_matrix(8, cols, seed + 2) +
                   0.2f * normal_matrix(tokens, cols, seed + 3) * mixing;
  for (int64_t col = 0; col < cols; ++col) inputs.col(col) *= 0.2f + float(col % 7);
  return inputs;
}

double output_error(const MatrixF& inputs, const MatrixF& weights, const PackedMatrix& packed) {
  const MatrixD reference = inputs.cast<double>() * weights.cast<double>().transpose();
  return (inputs.cast<double>() * dequantize(packed).cast<double>().transpose() - reference).norm() / reference.norm();
}

QuantConfig int4_group(int group) {
  QuantConfig quant;
  quant.bits = 4;
  quant.group = group;
  return quant;
}

}  // namespace

class TestSecondOrder : public QObject {
  Q_OBJECT

 private slots:
  void identity_hessian_is_magnitude_and_round_to_nearest() {
    const MatrixF weights = normal_matrix(24, 64, 1);
    const MatrixD hessian = MatrixD::Identity(64, 64) * 3.0;
    const NMPattern pattern = NMPattern::parse("2:4");
    SecondOrderSettings settings;
    settings.pattern = pattern;
    settings.quant = int4_group(16);
    const SecondOrderResult result = second_order_compress(weights, hessian, settings);
    QVERIFY(result.note.empty());
    const PackedMatrix expected =
        compress(weights, select_nm(weights, pattern, PruningCriterion::Magnitude), settings.quant);
    QVERIFY(result.packed.metadata == expected.metadata);
    QVERIFY(result.packed.values == expected.values);
    QVERIFY(result.packed.scales == expected.scales);
  }

  // The factor is computed without forming H^-1 (docs: second_order.cpp); it must be the reference's: the upper
  // Cholesky factor of the explicit inverse of the damped Hessian.
  void inverse_hessian_factor_is_the_cholesky_factor_of_the_inverse() {
    const MatrixD hessian = input_hessian(correlated_inputs(256, 48, 5));
    const double damping = 0.01;
    MatrixD damped = hessian;
    damped.diagonal().array() += damping * hessian.diagonal().mean();
    const MatrixD inverse = damped.inverse();
    const MatrixD expected = Eigen::LLT<MatrixD>(inverse).matrixU();
    const MatrixD upper = inverse_hessian_factor(hessian, damping);
    QCOMPARE(upper.rows(), hessian.rows());
    QVERIFY(upper.isUpperTriangular());
    const double error = (upper - expected).norm() / expected.norm();
    QVERIFY2(error < 1e-9, qPrintable(QString("relative difference %1").arg(error)));
    QVERIFY(((upper.transpose() * upper) - inverse).norm() / inverse.norm() < 1e-9);
  }

  void sparsegpt_beats_wanda_and_magnitude_on_output_error() {
    const MatrixF weights = normal_matrix(32, 64, 2);
    const MatrixF inputs = correlated_inputs(512, 64, 3);
    const NMPattern pattern = NMPattern::parse("2:4");
    QuantConfig fp16;
    fp16.bits = 16;
    SecondOrderSettings settings;
    settings.pattern = pattern;
    settings.quant = fp16;
    const double sparsegpt =
        output_error(inputs, weights, second_order_compress(weights, input_hessian(inputs), settings).packed);
    const VectorF norms = activation_column_norms(inputs);
    const double wanda = output_error(
        inputs, weights, compress(weights, select_nm(weights, pattern, PruningCriterion::Wanda, &norms), fp16));
    const double magnitude = output_error(
        inputs, weights, compress(weights, select_nm(weights, pattern, PruningCriterion::Magnitude), fp16));
    qInfo("2:4 output error: sparsegpt %.4f, wanda %.4f, magnitude %.4f", sparsegpt, wanda, magnitude);
    QVERIFY(sparsegpt < 0.9 * wanda);
    QVERIFY(sparsegpt < 0.9 * magnitude);
  }

  void gptq_beats_round_to_nearest_and_keeps_the_mask() {
    const MatrixF weights = normal_matrix(32, 64, 4);
    const MatrixF inputs = correlated_inputs(512, 64, 5);
    const NMPattern pattern = NMPattern::parse("2:4");
    const QuantConfig quant = int4_group(32);
    const NMSelection mask = select_nm(weights, pattern, PruningCriterion::Magnitude);
    SecondOrderSettings settings;
    settings.pattern = pattern;
    settings.quant = quant;
    settings.choose_mask = false;
    settings.fixed_mask = &mask;
    const SecondOrderResult gptq = second_order_compress(weights, input_hessian(inputs), settings);
    QVERIFY(gptq.packed.metadata == compress(weights, mask, quant).metadata);
    const double joint = output_error(inputs, weights, gptq.packed);
    const double nearest = output_error(inputs, weights, compress(weights, mask, quant));
    qInfo("2:4 + int4 output error, magnitude mask: gptq %.4f, rtn %.4f", joint, nearest);
    QVERIFY(joint < 0.9 * nearest);
  }

  void joint_sparsegpt_with_a_ragged_tail() {
    // K = 30: the last group of four has two real columns; scales every 8 columns are chosen inside the loop.
    const MatrixF weights = normal_matrix(8, 30, 6);
    const MatrixF inputs = correlated_inputs(128, 30, 7);
    SecondOrderSettings settings;
    settings.pattern = NMPattern::parse("2:4");
    settings.quant = int4_group(8);
    const SecondOrderResult result = second_order_compress(weights, input_hessian(inputs), settings);
    QVERIFY(result.note.empty());
    QVERIFY(dequantize(result.packed).allFinite());
    QCOMPARE(unpack_selection(result.packed).kept_fraction(), 16.0 / 30.0);  // the tail group keeps both real columns
    const PackedMatrix nearest =
        compress(weights, select_nm(weights, settings.pattern, PruningCriterion::Magnitude), settings.quant);
    QVERIFY(output_error(inputs, weights, result.packed) < output_error(inputs, weights, nearest));
  }

  void singular_hessian_falls_back_with_a_note() {
    const MatrixF weights = normal_matrix(8, 16, 8);
    SecondOrderSettings settings;
    settings.pattern = NMPattern::parse("2:4");
    settings.quant = int4_group(16);
    MatrixD broken = MatrixD::Identity(16, 16);
    broken(3, 3) = std::numeric_limits<double>::quiet_NaN();
    for (const MatrixD& hessian : {broken, MatrixD(-MatrixD::Identity(16, 16))}) {
      const SecondOrderResult result = second_order_compress(weights, hessian, settings);
      QVERIFY2(result.note.find("singular even after damping") != std::string::npos, result.note.c_str());
      QVERIFY(dequantize(result.packed).allFinite());
      QVERIFY(result.packed.metadata ==
              compress(weights, select_nm(weights, settings.pattern, PruningCriterion::Magnitude), settings.quant)
                  .metadata);
    }
  }

  void inputs_that_are_always_zero_zero_their_weights() {
    const MatrixF weights = normal_matrix(8, 16, 9);
    MatrixF inputs = correlated_inputs(64, 16, 10);
    inputs.col(5).setZero();
    SecondOrderSettings settings;
    settings.pattern = NMPattern::parse("2:4");
    settings.quant.bits = 16;
    const MatrixF decoded = dequantize(second_order_compress(weights, input_hessian(inputs), settings).packed);
    QVERIFY(decoded.allFinite());
    QVERIFY(decoded.col(5).isZero());
  }
};

QTEST_GUILESS_MAIN(TestSecondOrder)
#include "test_second_order.moc"
