// The decoder forward pass against logits written by transformers (tests/fixtures/models/make_model_references.py):
// a tiny random LLaMA (GQA, sharded safetensors) and a Qwen2 (q/k/v biases, one kv head, tied head), both to
// relative error < 1e-4; and the token ids a forward pass must refuse.
#include <QtTest/QtTest>
#include <filesystem>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/writers.hpp"

using namespace nmscope;
using model_test::expect_error;
using model_test::fixture;

class TestForward : public QObject {
  Q_OBJECT

 private slots:
  void llama_last_logits_match_transformers() {
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    QCOMPARE(tokens.sequences, int64_t{3});
    const MatrixF logits = run_forward(*model, tokens);
    const MatrixF expected = model_test::reference("tiny_llama_last_logits.npy");
    QCOMPARE(logits.rows(), expected.rows());
    QCOMPARE(logits.cols(), expected.cols());
    const double error = model_test::relative_error(logits, expected);
    qInfo("tiny llama last-position logits: relative error %.3g", error);
    QVERIFY2(error < 1e-4, QByteArray::number(error));
  }

  void llama_all_position_logits_match_transformers() {
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    const MatrixF logits = run_forward(*model, tokens, {}, ForwardOutput::AllLogits);
    const double error = model_test::relative_error(logits, model_test::reference("tiny_llama_all_logits.npy"));
    QVERIFY2(error < 1e-4, QByteArray::number(error));
  }

  void qwen2_last_logits_match_transformers() {
    const auto model = Model::open(fixture("tiny_qwen2"));
    const MatrixF logits = run_forward(*model, read_token_ids(fixture("tiny_qwen2_tokens.npy")));
    const double error = model_test::relative_error(logits, model_test::reference("tiny_qwen2_last_logits.npy"));
    qInfo("tiny qwen2 last-position logits: relative error %.3g", error);
    QVERIFY2(error < 1e-4, QByteArray::number(error));
  }

  void mistral_sliding_window_matches_transformers() {
    const auto model = Model::open(fixture("tiny_mistral"));
    QCOMPARE(model->config().sliding_window, int64_t{5});
    const TokenIds tokens = read_token_ids(fixture("tiny_mistral_tokens.npy"));
    const MatrixF expected = model_test::reference("tiny_mistral_last_logits.npy");
    const double error = model_test::relative_error(run_forward(*model, tokens), expected);
    qInfo("tiny mistral (window 5 over 12 tokens) last-position logits: relative error %.3g", error);
    QVERIFY2(error < 1e-4, QByteArray::number(error));
  }

  void scaled_rotary_embeddings_match_transformers() {
    // LLaMA 3.1's banded scaling (factor 8 over an original context of 64: every band of the 8 frequencies is hit)
    // and linear scaling, as transformers 5 writes them (rope_parameters).
    for (const auto& [name, type] : {std::pair{"tiny_llama3_rope", "llama3"}, {"tiny_llama_linear_rope", "linear"}}) {
      const auto model = Model::open(fixture(name));
      QCOMPARE(model->config().rope_scaling.type, std::string(type));
      const TokenIds tokens = read_token_ids(fixture(std::string(name) + "_tokens.npy"));
      const MatrixF expected = model_test::reference(std::string(name) + "_last_logits.npy");
      const double error = model_test::relative_error(run_forward(*model, tokens), expected);
      qInfo("%s (24 tokens) last-position logits: relative error %.3g", name, error);
      QVERIFY2(error < 1e-4, QByteArray::number(error));
      // The same weights with the scaling switched off give other logits: an ignored scaling would not pass.
      QTemporaryDir plain;
      std::filesystem::copy(fixture(name), plain.path().toStdString(), std::filesystem::copy_options::recursive |
                                                                        std::filesystem::copy_options::overwrite_existing);
      QFile config(plain.filePath("config.json"));
      QVERIFY(config.open(QIODevice::ReadOnly));
      QByteArray text = config.readAll();
      config.close();
      text.replace(QByteArray("\"rope_type\": \"") + type + "\"", "\"rope_type\": \"default\"");
      QVERIFY(config.open(QIODevice::WriteOnly | QIODevice::Truncate));
      config.write(text);
      config.close();
      const auto unscaled = Model::open(plain.path().toStdString());
      QCOMPARE(unscaled->config().rope_scaling.type, std::string("default"));
      const double unscaled_error = model_test::relative_error(run_forward(*unscaled, tokens), expected);
      QVERIFY2(unscaled_error > 100 * error && unscaled_error > 1e-3, QByteArray::number(unscaled_error));
    }
  }

  void a_prefix_sees_only_its_past() {
    // Causality: the logits at position 5 of the full sequence equal the last logits of the 6-token prefix.
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    TokenIds prefix{1, 6, {tokens.ids.begin(), tokens.ids.begin() + 6}};
    const MatrixF all = run_forward(*model, tokens, {}, ForwardOutput::AllLogits);
    const MatrixF last = run_forward(*model, prefix);
    QVERIFY(model_test::relative_error(last, all.row(5)) < 1e-5);
  }

  void token_ids_outside_the_vocabulary_are_refused() {
    const auto model = Model::open(fixture("tiny_llama"));
    expect_error(
        [&] {
          run_forward(*model, TokenIds{1, 2, {3, 256}}, {}, ForwardOutput::Final, "ids.npy");
        },
        "ids.npy: token id 256 (sequence 0) is outside the vocabulary of 256");
    expect_error([&] { run_forward(*model, TokenIds{1, 1, {-1}}); }, "token id -1");
  }

  void sequences_longer_than_the_positions_are_refused() {
    const auto model = Model::open(fixture("tiny_llama"));
    TokenIds long_tokens{1, 65, std::vector<int64_t>(65, 1)};
    expect_error([&] { run_forward(*model, long_tokens); }, "longer than the model's 64 positions");
  }

  void token_files_must_hold_integers() {
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/float.npy";
    nmscope::write_npy(path, {"ids", DType::F32, {1, 2}, {1.0f, 2.0f}});
    expect_error([&] { read_token_ids(path); }, "token ids must be int32 or int64");
    const TokenIds ids = read_token_ids(fixture("tiny_llama_tokens.npy"));
    QCOMPARE(ids.tokens, int64_t{12});
  }
};

QTEST_GUILESS_MAIN(TestForward)
#include "test_forward.moc"
