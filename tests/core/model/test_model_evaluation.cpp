// Model-level metrics and model studies: perplexity, KL and top-1 on hand-made logits; cosine for encoders; a study on
// the tiny LLaMA stored as one row per configuration plus per-layer rows; bad evaluation sets refused before anything
// is stored.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <set>
#include <cmath>

#include "model_test_support.hpp"
#include "nmscope/model_evaluation.hpp"
#include "nmscope/model_study.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/writers.hpp"

using namespace nmscope;
using model_test::expect_error;
using model_test::fixture;

class TestModelEvaluation : public QObject {
  Q_OBJECT

 private slots:
  void decoder_figures_on_hand_made_logits() {
    // One sequence of 3 tokens over a vocabulary of 2: positions 0 and 1 are scored (predicting tokens 1 and 2).
    DenseReference reference;
    reference.family = ModelFamily::Decoder;
    reference.tokens = TokenIds{1, 3, {0, 1, 0}};
    reference.outputs = MatrixF(3, 2);
    reference.outputs << 0.0f, std::log(3.0f),  // p = (1/4, 3/4): token 1 has p 3/4
        0.0f, 0.0f,                             // p = (1/2, 1/2): token 0 has p 1/2
        5.0f, -5.0f;                            // last position: not scored
    MatrixF outputs = reference.outputs;
    outputs.row(0) << std::log(3.0f), 0.0f;  // p = (3/4, 1/4): token 1 has p 1/4, top-1 flips
    const ModelQuality quality = compare_with_dense(reference, outputs);
    QCOMPARE(quality.scored, int64_t{2});
    QVERIFY(std::abs(quality.dense_perplexity - std::exp(-(std::log(0.75) + std::log(0.5)) / 2)) < 1e-6);
    QVERIFY(std::abs(quality.perplexity - std::exp(-(std::log(0.25) + std::log(0.5)) / 2)) < 1e-6);
    const double kl_first = 0.25 * std::log(0.25 / 0.75) + 0.75 * std::log(0.75 / 0.25);
    QVERIFY(std::abs(quality.mean_kl - kl_first / 2) < 1e-6);
    QCOMPARE(quality.top1_agreement, 0.5);  // position 1 is a tie in both: the first maximum, equal
    QVERIFY(std::isnan(quality.mean_cosine));
  }

  void encoder_cosine() {
    DenseReference reference;
    reference.family = ModelFamily::Encoder;
    reference.tokens = TokenIds{2, 2, {0, 0, 0, 0}};
    reference.outputs = MatrixF(2, 2);
    reference.outputs << 1.0f, 0.0f, 0.6f, 0.8f;
    MatrixF outputs(2, 2);
    outputs << 0.0f, 1.0f, 0.6f, 0.8f;
    const ModelQuality quality = compare_with_dense(reference, outputs);
    QCOMPARE(quality.mean_cosine, 0.5);
    QVERIFY(std::isnan(quality.perplexity));
  }

  void an_evaluation_set_of_one_token_is_refused() {
    const auto model = Model::open(fixture("tiny_llama"));
    expect_error(
        [&] {
          dense_reference(*model, TokenIds{4, 1, {1, 2, 3, 4}}, "eval.npy");
        },
        "eval.npy: an evaluation set needs at least 2 tokens per sequence (it has 1)");
  }

  void study_stores_one_row_per_configuration_and_the_layers() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("results.db").toStdString());
    ModelStudySpec spec;
    spec.model = fixture("tiny_llama");
    spec.evaluation = fixture("tiny_llama_tokens.npy");
    spec.bits = {4};
    spec.quant.group = 32;
    spec.criteria = {ModelCriterion::Magnitude, ModelCriterion::SparseGPT};
    std::vector<ModelEvaluationRecord> reported;
    const std::string study =
        run_model_study(spec, &store, [&](const ModelEvaluationRecord& row) { reported.push_back(row); });
    const auto rows = store.model_evaluations(study);
    QCOMPARE(rows.size(), std::size_t{3});  // the dense fp16 point, magnitude, sparsegpt
    QCOMPARE(reported.size(), rows.size());
    QCOMPARE(rows[0].criterion, std::string("none"));
    QCOMPARE(rows[0].quant.bits, 16);
    QVERIFY(rows[0].mean_kl < 1e-4);  // fp16 weights barely move the distributions
    QCOMPARE(rows[0].top1_agreement, 1.0);
    QCOMPARE(rows[2].criterion, std::string("sparsegpt"));
    QCOMPARE(rows[2].calibration, std::string("built-in 16x64"));
    QCOMPARE(rows[1].calibration, std::string());
    QCOMPARE(rows[1].bits_per_weight, 3.5);  // 2 value + 1 metadata + 16/32 scale bits
    QVERIFY(rows[1].mean_kl > 0 && rows[1].perplexity > 0 && std::isnan(rows[1].mean_cosine));
    QCOMPARE(rows[1].dense_perplexity, rows[0].dense_perplexity);
    QCOMPARE(store.by_study(study).size(), std::size_t{3 * 14});
    for (const auto& layer : store.by_study(study))
      QVERIFY(layer.details_json.find("\"model_study\":true") != std::string::npos);

    // The quantizer is in the per-layer rows' key: rtn and gptq rows of one criterion are different measurements.
    spec.criteria = {ModelCriterion::Magnitude};
    spec.quantizers = {Quantizer::RoundToNearest, Quantizer::Gptq};
    const std::string second = run_model_study(spec, &store, {});
    std::set<MeasurementKey> keys;
    for (const auto& layer : store.by_study(second)) keys.insert(MeasurementKey::of(layer));
    QCOMPARE(keys.size(), store.by_study(second).size());
    std::set<std::string> criteria;
    for (const auto& layer : store.by_study(second)) criteria.insert(layer.criterion);
    QCOMPARE(criteria, (std::set<std::string>{"none", "magnitude", "magnitude+gptq"}));
  }

  void bad_input_stores_nothing() {
    QTemporaryDir dir;
    const std::string database = dir.filePath("results.db").toStdString();
    ResultsStore store(database);
    ModelStudySpec spec;
    spec.model = fixture("tiny_llama");
    spec.evaluation = fixture("minilm_tokens.npy");  // ids up to 30k; the tiny LLaMA has 256
    expect_error([&] { run_model_study(spec, &store, {}); }, "outside the vocabulary of 256");
    spec.evaluation = fixture("tiny_llama_tokens.npy");
    spec.calibration = fixture("minilm_tokens.npy");
    spec.criteria = {ModelCriterion::Wanda};
    expect_error([&] { run_model_study(spec, &store, {}); }, "minilm_tokens.npy: token id");
    QVERIFY(store.model_evaluations().empty());
    QCOMPARE(store.count(), int64_t{0});
  }
};

QTEST_GUILESS_MAIN(TestModelEvaluation)
#include "test_model_evaluation.moc"
