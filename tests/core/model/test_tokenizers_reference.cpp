// tokenizer.json files of every supported kind against Hugging Face `tokenizers` itself, at test time:
// make_tokenizers.py (tests/fixtures/tokenizers) builds small tokenizers with the real library (GPT-2, RoBERTa, LLaMA-3
// and Qwen2 style byte-level BPE, LLaMA-2 / Mistral style SentencePiece BPE, T5 style Unigram with and without byte
// fallback, T5 with SentencePiece's Precompiled nmt_nfkc charsmap, BERT WordPiece uncased and cased, CLIP's
// end-of-word suffix, a ## subword prefix, every Split behavior), saves them and the ids the library gives for texts
// that stress each step (accents, compatibility characters, CJK, emoji, runs of spaces, newlines, special and added
// tokens inside the text) plus 200 random mixes of such characters; our encoder must give the same ids for every text.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nmscope/error.hpp"
#include "nmscope/tokenizer.hpp"

using namespace nmscope;

namespace {

constexpr int kPythonSaysNoTokenizers = 3;  // make_tokenizers.py's exit status when `tokenizers` is not importable

std::string ids_text(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : " ") + std::to_string(id);
  return text;
}

}  // namespace

class TestTokenizersReference : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!text_input_available()) QSKIP("built without ICU: text input is refused");
    QVERIFY(directory_.isValid());
    QProcess python;
    python.start(QStringLiteral(NMSCOPE_PYTHON), {QStringLiteral(NMSCOPE_TOKENIZER_SCRIPT), directory_.path()});
    QVERIFY2(python.waitForFinished(300000), "make_tokenizers.py did not finish");
    if (python.exitStatus() == QProcess::NormalExit && python.exitCode() == kPythonSaysNoTokenizers)
      QSKIP(qPrintable("pip install tokenizers (nmscope.sh installs it): " +
                       QString::fromUtf8(python.readAllStandardError()).trimmed()));
    QVERIFY2(python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
             python.readAllStandardError().constData());
    std::ifstream stream(directory_.filePath("cases.json").toStdString());
    cases_ = nlohmann::json::parse(stream);
    QVERIFY(cases_.size() >= 17 * 200);
  }

  void ids_match_huggingface_tokenizers_data() {
    QTest::addColumn<QString>("name");
    for (const char* name :
         {"gpt2_byte_level", "llama3_byte_level", "roberta_byte_level", "qwen2_byte_level", "llama2_sentencepiece_bpe",
          "mistral_metaspace_bpe", "t5_unigram", "t5_precompiled_unigram", "unigram_byte_fallback",
          "bert_uncased_wordpiece", "bert_cased_whitespace_wordpiece", "split_behaviors_bpe", "clip_bpe",
          "subword_prefix_bpe", "bert_truncated_fixed_padding", "llama2_left_truncated_multiple_padding",
          "gpt2_truncated"})
      QTest::newRow(name) << QString(name);
  }

  void ids_match_huggingface_tokenizers() {
    QFETCH(QString, name);
    if (name == "t5_precompiled_unigram" && !QFileInfo::exists(directory_.filePath(name)))
      QSKIP("pip install sentencepiece: it writes the nmt_nfkc charsmap this tokenizer needs");
    const auto tokenizer = Tokenizer::open(directory_.filePath(name).toStdString());
    int checked = 0;
    QStringList mismatches;
    for (const auto& test : cases_) {
      if (test.at("tokenizer") != name.toStdString()) continue;
      const std::string text = test.at("text");
      // With the file's truncation and padding, as encode() applies them; the files without them give encode()'s.
      const auto expected = test.at("ids").get<std::vector<int64_t>>();
      const auto expected_mask = test.at("attention_mask").get<std::vector<int8_t>>();
      const TokenEncoding actual = tokenizer->encode_as_configured(text);
      ++checked;
      if (actual.ids != expected || actual.attention_mask != expected_mask)
        mismatches << QString::fromStdString("'" + text + "'\n    expected " + ids_text(expected) + "\n    got      " +
                                             ids_text(actual.ids));
      if (!name.contains("truncat")) QCOMPARE(tokenizer->encode(text), expected);
    }
    QVERIFY(checked >= 200);
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join("\n")));
  }

 private:
  QTemporaryDir directory_;
  nlohmann::json cases_;
};

QTEST_GUILESS_MAIN(TestTokenizersReference)
#include "test_tokenizers_reference.moc"
