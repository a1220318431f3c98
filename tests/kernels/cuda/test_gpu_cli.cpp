// nmscope-cli's GPU commands as a user runs them: `verify --engine gpu` (usage errors, and a non-zero exit with the
// reason where no GPU can run) and `bench` with gpu/ variants (their cuBLAS and cuSPARSELt baselines added to the same
// run; without a GPU every row says why it is unavailable). Runs in CI with or without a GPU.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_process.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"

using nmscope::test::CliResult;
using nmscope::test::run_cli;

namespace {}  // namespace

class TestGpuCli final : public QObject {
  Q_OBJECT

 private slots:
  void verify_usage_errors_exit_2() {
    CliResult result = run_cli({"verify"});
    QVERIFY2(result.exit_code == 2, qPrintable(result.describe()));
    result = run_cli({"verify", "--engine", "tpu"});
    QVERIFY2(result.exit_code == 2 && result.err.contains("gpu"), qPrintable(result.describe()));
    result = run_cli({"verify", "--engine", "gpu", "--configs", "0"});
    QVERIFY2(result.exit_code == 2, qPrintable(result.describe()));
  }

  void verify_gpu_passes_or_says_why_not() {
    const CliResult result = run_cli({"verify", "--engine", "gpu", "--configs", "3", "--seed", "7"});
    if (nmscope::kernels::cuda::device_status().available) {
      QVERIFY2(result.exit_code == 0 && result.out.contains(" 0 failed"), qPrintable(result.describe()));
      QVERIFY2(result.out.contains("PASS"), qPrintable(result.describe()));
    } else {
      // Nothing could be verified: not a success, and the reason is one line on stderr, as every failure's is.
      QVERIFY2(result.exit_code == 1 && result.err.startsWith("nmscope-cli: verify: no GPU variant can run here") &&
                   result.err_lines().size() == 1,
               qPrintable(result.describe()));
    }
  }

  void bench_adds_both_gpu_baselines() {
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const CliResult result =
        run_cli({"bench", "--engines", "gpu/int4-2:4", "--shapes", "64x128", "--batch", "1", "--pattern", "2:4",
                 "--bits", "4", "--json", "--timing-seconds", "0.01", "--db", directory.filePath("bench.db")});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QStringList engines;
    for (const QString& line : result.out.split('\n', Qt::SkipEmptyParts)) {
      const QJsonObject row = QJsonDocument::fromJson(line.toUtf8()).object();
      engines << row["engine"].toString();
      if (!nmscope::kernels::cuda::device_status().available) {
        QCOMPARE(row["status"].toString(), QString("unavailable"));
        QVERIFY(!row["note"].toString().isEmpty());
      } else if (row["engine"].toString() == "gpu/int4-2:4" && row["status"].toString() == "ok") {
        QVERIFY(row.contains("speedups"));  // beside cuSPARSELt as well as cuBLAS
      }
    }
    engines.sort();
    QCOMPARE(engines, QStringList({"gpu/cublas-fp16-dense", "gpu/cusparselt-fp16-2:4", "gpu/int4-2:4"}));
  }

  void decode_usage_errors_exit_2() {
    CliResult result = run_cli({"decode", "--preset", "gpt-9"});
    QVERIFY2(result.exit_code == 2 && result.err.contains("llama-7b"), qPrintable(result.describe()));
    result = run_cli({"decode", "--preset", "tiny", "--engines", "gpu/fp8-2:4"});
    QVERIFY2(result.exit_code == 2 && result.err.contains("--engines"), qPrintable(result.describe()));
    result = run_cli({"decode", "--preset", "tiny", "--batch", "1,x"});
    QVERIFY2(result.exit_code == 2, qPrintable(result.describe()));
  }

  // Without a GPU: exit 1, one line saying the decode is unavailable and why; every row says so too.
  void decode_runs_or_says_unavailable() {
    const CliResult result = run_cli({"decode", "--preset", "tiny", "--engines", "gpu/int4-2:4", "--batch", "1,4",
                                      "--context", "32", "--timing-seconds", "0.01", "--json"});
    const QStringList lines = result.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);  // the baseline and gpu/int4-2:4, at two batches
    for (const QString& line : lines) {
      const QJsonObject row = QJsonDocument::fromJson(line.toUtf8()).object();
      if (nmscope::kernels::cuda::device_status().available) {
        QVERIFY2(row["status"].toString() == "ok", qPrintable(line));
        QVERIFY(row["tokens_per_s"].toDouble() > 0 && row["weight_bytes"].toDouble() > 0);
      } else {
        QCOMPARE(row["status"].toString(), QString("unavailable"));
        QVERIFY(!row["note"].toString().isEmpty());
      }
    }
    if (nmscope::kernels::cuda::device_status().available) {
      QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    } else {
      QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
      const QStringList errors = result.err.split('\n', Qt::SkipEmptyParts);
      QCOMPARE(errors.size(), 1);
      QVERIFY2(errors[0].startsWith("nmscope-cli: decode unavailable: "), qPrintable(result.describe()));
    }
  }
};

QTEST_GUILESS_MAIN(TestGpuCli)
#include "test_gpu_cli.moc"
