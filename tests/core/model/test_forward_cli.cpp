// nmscope-cli forward and inspect on model directories, as a user runs them: the output .npy matches transformers'
// logits, inspect shows the roles, and bad input gives one line on stderr, the documented exit status and no output.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>

#include "model_test_support.hpp"
#include "nmscope/writers.hpp"

using model_test::fixture;

namespace {

struct CliResult {
  int exit_code = -1;
  QString out, err;
};

CliResult run_cli(const QStringList& arguments) {
  QProcess process;
  process.start(QStringLiteral(NMSCOPE_CLI_PATH), arguments);
  CliResult result;
  if (!process.waitForFinished(300000) || process.exitStatus() != QProcess::NormalExit) return result;
  result.exit_code = process.exitCode();
  result.out = QString::fromUtf8(process.readAllStandardOutput());
  result.err = QString::fromUtf8(process.readAllStandardError());
  return result;
}

QString q(const std::string& text) { return QString::fromStdString(text); }

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
