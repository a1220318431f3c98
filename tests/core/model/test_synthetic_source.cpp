// The synthetic generator: shapes and presets from the spec, reproducible bits, the distributions it promises,
// and clear errors for malformed specs.
#include <QtTest>
#include <cmath>

#include "nmscope/error.hpp"
#include "nmscope/synthetic.hpp"

using namespace nmscope;

namespace {

double standard_deviation(const MatrixF& matrix) {
  const Eigen::ArrayXd values = Eigen::Map<const Eigen::ArrayXf>(matrix.data(), matrix.size()).cast<double>();
  return std::sqrt((values - values.mean()).square().mean());
}

}  // namespace

class TestSyntheticSource final : public QObject {
  Q_OBJECT

 private slots:
  void shapes_and_names_follow_the_spec() {
    const auto source = open_weight_source("synth:64x96+128x32:dist=normal:seed=5");
    QCOMPARE(source->tensors().size(), size_t(2));
    QCOMPARE(source->tensors()[1].shape, (std::vector<int64_t>{128, 32}));
    QVERIFY(source->tensors()[0].is_matrix);
    const MatrixF weights = source->load_matrix(source->tensors()[0].name);
    QCOMPARE(weights.rows(), Eigen::Index(64));
    QCOMPARE(weights.cols(), Eigen::Index(96));
  }

  void presets_list_their_layers() {
    const auto source = open_weight_source("synth:llama-7b-block");
    QCOMPARE(source->tensors().size(), size_t(7));
    const TensorInfo* down = source->find("model.layers.0.mlp.down_proj.weight");
    QVERIFY(down != nullptr);
    QCOMPARE(down->shape, (std::vector<int64_t>{4096, 11008}));
  }

  void same_spec_same_bits_other_seed_other_bits() {
    const auto a = open_weight_source("synth:40x50:seed=9");
    const auto b = open_weight_source("synth:40x50:seed=9");
    const auto c = open_weight_source("synth:40x50:seed=10");
    const std::string name = a->tensors()[0].name;
    QVERIFY(a->load_matrix(name) == b->load_matrix(name));
    QVERIFY(a->load_matrix(name) != c->load_matrix(name));
    QCOMPARE(a->tensor_hash(name), b->tensor_hash(name));
    QVERIFY(a->tensor_hash(name) != c->tensor_hash(name));
  }

  void distributions_have_their_shape() {
    const MatrixF normal = open_weight_source("synth:256x512:dist=normal")->load_matrix("w0_256x512");
    QVERIFY(std::fabs(standard_deviation(normal) - 0.02) < 0.001);
    const MatrixF laplace = open_weight_source("synth:256x512:dist=laplace")->load_matrix("w0_256x512");
    QVERIFY(std::fabs(standard_deviation(laplace) - 0.02) < 0.001);
    // Laplace has heavier tails: excess kurtosis ~3 versus ~0 for the normal.
    auto kurtosis = [](const MatrixF& m) {
      const Eigen::ArrayXd v = Eigen::Map<const Eigen::ArrayXf>(m.data(), m.size()).cast<double>();
      const double variance = (v - v.mean()).square().mean();
      return (v - v.mean()).pow(4).mean() / (variance * variance) - 3.0;
    };
    QVERIFY(std::fabs(kurtosis(normal)) < 0.3);
    QVERIFY(kurtosis(laplace) > 2.0);
    // LLM-like: mildly heavier tails than the normal, from the spread of row and column scales (real weights measure
    // 0.5-2.3 per role); the bands against real weights are test_llm_like_weights'.
    const MatrixF llm = open_weight_source("synth:256x2048:dist=llm:seed=3")->load_matrix("w0_256x2048");
    QVERIFY(kurtosis(llm) > 0.7 && kurtosis(llm) < 2.5);
  }

  void malformed_specs_name_the_spec_data() {
    QTest::addColumn<QString>("spec");
    QTest::newRow("empty") << "synth:";
    QTest::newRow("no cols") << "synth:64";
    QTest::newRow("zero") << "synth:0x4";
    QTest::newRow("huge") << "synth:4x99999999";
    QTest::newRow("distribution") << "synth:4x4:dist=cauchy";
    QTest::newRow("seed") << "synth:4x4:seed=abc";
    QTest::newRow("field") << "synth:4x4:color=red";
    QTest::newRow("preset") << "synth:llama-999b";
  }
  void malformed_specs_name_the_spec() {
    QFETCH(QString, spec);
    try {
      open_weight_source(spec.toStdString());
      QFAIL("accepted a malformed spec");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), spec.toStdString());
    }
  }

  void unknown_tensor_is_an_error() {
    const auto source = open_weight_source("synth:4x4");
    QVERIFY_THROWS_EXCEPTION(Error, source->load_matrix("nope"));
  }
};

QTEST_APPLESS_MAIN(TestSyntheticSource)
#include "test_synthetic_source.moc"
