// nmscope-cli as a user drives it: the real binary under QProcess, in a temporary directory, with fixtures written
// by nmscope's own writers. Pins the contract of inspect / run / export: the JSON Lines fields and their values,
// the exit statuses (0 ok, 1 bad file or tensor, 2 bad usage), the one-line error naming the file or option, and
// that a failing command never damages or half-writes the results database.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <random>

#include "../store/store_test_support.hpp"
#include "cli_process.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/writers.hpp"

using nmscope::DType;
using nmscope::TensorToWrite;
using store_test::RawDatabase;

using nmscope::test::CliResult;
using nmscope::test::run_cli;

namespace {

// Every stdout line must be one JSON object (JSON Lines); an unparsable line is returned as an empty object, which
// every field check then fails on.
QList<QJsonObject> json_lines(const QString& text) {
  QList<QJsonObject> rows;
  for (const QString& line : text.split('\n', Qt::SkipEmptyParts)) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(line.toUtf8(), &error);
    rows.push_back(error.error == QJsonParseError::NoError && document.isObject() ? document.object() : QJsonObject());
  }
  return rows;
}

std::vector<float> normal_values(size_t count, unsigned seed, float scale = 1.0f) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(count);
  for (auto& value : values) value = normal(generator);
  return values;
}

TensorToWrite tensor(const std::string& name, std::vector<int64_t> shape, DType dtype = DType::F32, unsigned seed = 1) {
  size_t count = 1;
  for (int64_t extent : shape) count *= size_t(extent);
  return {name, dtype, std::move(shape), normal_values(count, seed, 0.02f)};
}

long long row_count(const QString& db) {
  if (!QFile::exists(db)) return -1;
  RawDatabase raw(db.toStdString());
  return raw.integer("SELECT count(*) FROM measurements");
}

std::string integrity(const QString& db) {
  RawDatabase raw(db.toStdString());
  return raw.text("PRAGMA integrity_check");
}

// The ids and configurations of every stored row, to compare a database before and after a failing command.
std::string row_digest(const QString& db) {
  RawDatabase raw(db.toStdString());
  return raw.text(
      "SELECT group_concat(id || '|' || tensor || '|' || pattern || '|' || bits || '|' || storage_bytes, ';') "
      "FROM (SELECT * FROM measurements ORDER BY id)");
}

// RFC 4180 records (quotes may hold commas and line breaks); the caller checks the framing separately.
QList<QStringList> csv_records(const QString& text) {
  QList<QStringList> records;
  QStringList record;
  QString field;
  bool quoted = false;
  for (qsizetype i = 0; i < text.size(); ++i) {
    const QChar c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record << field;
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      record << field;
      field.clear();
      records << record;
      record.clear();
      ++i;
    } else {
      field += c;
    }
  }
  if (!field.isEmpty() || !record.isEmpty()) records << (record << field);
  return records;
}

const QStringList kRequiredRunKeys = {"tensor",        "shape",          "pattern",        "bits",
                                      "granularity",   "symmetric",      "criterion",      "engine",
                                      "batch",         "storage_bytes",  "compression_vs_fp16", "weight_rel_err",
                                      "output_rel_err", "sqnr_db"};

}  // namespace

class TestCli final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;

  QString path(const QString& name) const { return dir_.filePath(name); }

  // A database holding `rows` measurements made by the CLI itself (engine none: quick and deterministic).
  QString database_with_rows(const QString& name, int patterns) {
    const QString db = path(name);
    const QString list = QStringList({"dense", "2:4", "1:4", "4:8"}).mid(0, patterns).join(',');
    const CliResult result = run_cli({"run", "--weights", "synth:16x32", "--pattern", list, "--bits", "4",
                                      "--engines", "none", "--db", db, "--json"});
    if (result.exit_code != 0 || row_count(db) != patterns) qWarning().noquote() << result.describe();
    return db;
  }

  // A failing command, given as the arguments after `--db DB`, must leave the database exactly as it was.
  void check_database_untouched(const QString& db, const QStringList& arguments, int expected_exit) {
    const long long before_rows = row_count(db);
    const std::string before = row_digest(db);
    QVERIFY(before_rows > 0);
    QStringList full = arguments;
    full << "--db" << db << "--json";
    const CliResult result = run_cli(full);
    QVERIFY2(result.exit_code == expected_exit, qPrintable(result.describe()));
    QCOMPARE(row_count(db), before_rows);
    QCOMPARE(row_digest(db), before);
    QCOMPARE(integrity(db), std::string("ok"));
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY2(QFile::exists(NMSCOPE_CLI_PATH), NMSCOPE_CLI_PATH);
  }

  // ---- resume and the identity of a source -------------------------------------------------------------------

  void resumeKnowsAFileHoweverItIsNamed() {
    // fx/w.npy, ./fx/w.npy, its absolute path and w.npy from inside fx/ are one source: a resume from any of them
    // measures nothing again (it measured everything again before).
    QDir(dir_.path()).mkpath("fx");
    const QString file = path("fx/w.npy");
    nmscope::write_npy(file.toStdString(), tensor("w", {16, 32}));
    const QString db = path("resume-identity.db");
    const QStringList study = {"run", "--pattern", "dense,2:4", "--bits", "8,4", "--engines", "none", "--db", db};
    const CliResult first = run_cli(study + QStringList{"--weights", "fx/w.npy"}, 600000, dir_.path());
    QVERIFY2(first.exit_code == 0, qPrintable(first.describe()));
    const long long rows = row_count(db);
    QCOMPARE(rows, 4LL);
    const std::vector<std::pair<QString, QString>> namings = {
        {"./fx/w.npy", dir_.path()}, {file, dir_.path()}, {"w.npy", path("fx")}, {"../fx/w.npy", path("fx")}};
    for (const auto& [name, cwd] : namings) {
      const CliResult again = run_cli(study + QStringList{"--weights", name, "--resume"}, 600000, cwd);
      QVERIFY2(again.exit_code == 0, qPrintable(name + ": " + again.describe()));
      QVERIFY2(again.err.contains("0 measurements stored") && again.err.contains("4 were already stored"),
               qPrintable(name + ": " + again.err));
      QCOMPARE(row_count(db), rows);
    }
    // The row says where the file is, whoever named it how.
    const auto stored = nmscope::ResultsStore(db.toStdString()).all();
    QCOMPARE(QString::fromStdString(stored.front().source), QFileInfo(file).canonicalFilePath());
  }

  void aRunThatMeasuresNothingSaysWhyAndFails() {
    // A vector, an empty array and a scalar hold nothing to prune: each run names the file and why, and exits 1.
    const std::vector<std::pair<QString, std::vector<int64_t>>> arrays = {
        {"vec", {10}}, {"empty", {0, 0}}, {"scalar", {}}};
    for (const auto& [name, shape] : arrays) {
      const QString file = path(name + ".npy");
      nmscope::write_npy(file.toStdString(), tensor(name.toStdString(), shape));
      const QString db = path("nothing-" + name + ".db");
      const CliResult result = run_cli({"run", "--weights", file, "--db", db});
      QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
      QVERIFY2(result.err.contains(file + ": holds no matrix to measure"), qPrintable(result.err));
    }
    // The FPGA engine cannot take 3:7 at group 128: the engine's own reason is printed, and nothing measured is exit 1.
    const QStringList fpga = {
        "run",  "--weights", "synth:tiny-block",     "--tensor", "block.mlp.up_proj.weight", "--engines",
        "fpga", "--db",      path("nothing-fpga.db")};
    const CliResult refused = run_cli(fpga + QStringList{"--pattern", "3:7"});
    QVERIFY2(refused.exit_code == 1, qPrintable(refused.describe()));
    QVERIFY2(refused.err.contains("fpga: 3:7 int4 not measured: quantization group 128 is not a multiple of M=7"),
             qPrintable(refused.err));
    QCOMPARE(row_count(path("nothing-fpga.db")), 0LL);
    // Beside a pattern it can measure, the reason is still said; the run measured something and succeeds.
    const CliResult partly = run_cli(fpga + QStringList{"--pattern", "3:7,2:4"});
    QVERIFY2(partly.exit_code == 0, qPrintable(partly.describe()));
    QVERIFY(partly.err.contains("fpga: 3:7 int4 not measured"));
    QVERIFY(row_count(path("nothing-fpga.db")) > 0);
  }

  // `engines` lists every variant from its descriptor: device, the baseline its speedup is quoted against, what it
  // runs.
  void enginesListsEveryVariantWithWhatItRuns() {
    const CliResult result = run_cli({"engines"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QStringList lines = result.out.split('\n', Qt::SkipEmptyParts);
    QVERIFY(lines.value(0).startsWith("engine"));
    auto line_of = [&](const QString& engine) {
      for (const QString& line : lines)
        if (line.startsWith(engine + ' ')) return line.simplified();
      return QString();
    };
    QCOMPARE(line_of("cpu/int4-2:4"), QString("cpu/int4-2:4 host CPU cpu/eigen-fp32-dense int4; 2:4"));
    QVERIFY(line_of("cpu/eigen-fp32-dense").contains("(baseline)"));
    QVERIFY(line_of("fpga/systolic-16x16").contains("fpga/systolic-16x16 dense"));
    QVERIFY(!line_of("gpu/int4-2:4").isEmpty());
    const CliResult json = run_cli({"engines", "--json"});
    QCOMPARE(json.exit_code, 0);
    QVERIFY(json.out.contains("\"name\":\"cpu/int4-nm\""));
    QVERIFY(json.out.contains("\"kernel\":\"kernels::nm_gemm"));
  }

  void fp16OverflowIsFlaggedInTheRow() {
    // A weight of 1e5 is beyond fp16 (65504): stored as fp16 it becomes infinity, and at 4 bits its group's scale
    // (1e5 / 7) fits, but at 4 bits a weight of 1e6 needs a scale beyond fp16, which is clamped. Neither is "ok".
    const QString file = path("huge.npy");
    std::vector<float> values(8 * 32, 0.5f);
    values[3] = 1e5f;
    values[40] = -1e6f;
    nmscope::write_npy(file.toStdString(), {"huge", DType::F32, {8, 32}, values});
    const QString db = path("overflow.db");
    const CliResult result = run_cli(
        {"run", "--weights", file, "--pattern", "dense", "--bits", "16,4", "--engines", "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 2);
    for (const QJsonObject& row : rows) {
      QCOMPARE(row["status"].toString(), QString("overflow"));
      const QString expected = row["bits"].toInt() == 16 ? "fp16 overflow: weights up to 1e+06 exceed"
                                                         : "fp16 scale overflow: weights up to 1e+06 need a scale";
      QVERIFY2(row["note"].toString().startsWith(expected), qPrintable(row["note"].toString()));
    }
    // A resume knows flagged rows are measured.
    const CliResult again = run_cli({"run", "--weights", file, "--pattern", "dense", "--bits", "16,4", "--engines",
                                     "none", "--db", db, "--resume"});
    QVERIFY2(again.err.contains("2 were already stored"), qPrintable(again.describe()));
  }

  void usageErrorsAreExitTwoBeforeAnyWork() {
    // One line, exit 2, nothing printed on stdout (no table header), nothing measured.
    const std::vector<std::pair<QStringList, QString>> refused = {
        {{"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4", "--batch", "0"}, "--batch: '0' is not a positive"},
        {{"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4", "--context", "0"},
         "--context: 0 is not a positive"},
        {{"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4", "--cpu-activations", "fp8"},
         "--cpu-activations: fp8 not in {fp32,bf16x2,bf16,int8}"},
        {{"decode", "--preset", "tiny", "--engines", "gpu/int4-2:4", "--kv-cache", "int4"},
         "--kv-cache: int4 not in {fp16,int8}"},
        {{"reproduce", "hsieh2025", "--context", "0", "--db", path("never.db")}, "--context: 0 is not a positive"},
        {{"reproduce", "hsieh2025", "--engines", "", "--db", path("never.db")}, "--engines: names no engine family"},
        {{"reproduce", "hsieh2025", "--engines", "tpu", "--db", path("never.db")}, "'tpu' is not an engine family"},
        {{"run", "--weights", "synth:16x32", "--batch", "0", "--db", path("never.db")},
         "--batch: '0' is not a positive"},
        {{"run", "--weights", "synth:16x32", "--engines", "fpga", "--fpga-memory", "ddr5", "--db", path("never.db")},
         "--fpga-memory: 'ddr5' is neither"},
        {{"bench", "--engines", "fpga", "--fpga-memory", "0", "--db", path("never.db")},
         "--fpga-memory: '0': a bandwidth must be in"},
    };
    for (const auto& [arguments, needle] : refused) {
      const CliResult result = run_cli(arguments);
      expect_one_line_error(result, 2, needle);
      QVERIFY2(result.out.isEmpty(), qPrintable(result.describe()));
    }
    QVERIFY(!QFile::exists(path("never.db")));
  }

  void threadsAreRecordedAsUsedAndBoundsChecked() {
    const QString db = path("threads.db");
    const CliResult one = run_cli({"run", "--weights", "synth:64x128", "--pattern", "2:4", "--bits", "4", "--engines",
                                   "cpu/eigen-fp32-dense,cpu/int4-2:4", "--threads", "1", "--timing-seconds", "0.01",
                                   "--db", db, "--json"});
    QVERIFY2(one.exit_code == 0, qPrintable(one.describe()));
    const QList<QJsonObject> rows = json_lines(one.out);
    QCOMPARE(rows.size(), 2);
    for (const QJsonObject& row : rows) {
      QCOMPARE(row["details"].toObject()["threads"].toInt(), 1);  // it said every core before
    }
    for (const QString bad : {"-3", "0", "100000"}) {
      const CliResult refused =
          run_cli({"run", "--weights", "synth:64x128", "--threads", bad, "--db", path("never-threads.db")});
      QVERIFY2(refused.exit_code == 2, qPrintable(bad + ": " + refused.describe()));
      QCOMPARE(refused.err_lines().size(), 1);
      QVERIFY(refused.err.contains("--threads"));
    }
  }

  void progressLineOnATerminalOnly() {
    // Not a terminal (this QProcess's pipe, a log, CI): no carriage returns on stderr.
    const QStringList study = {
        "run",  "--weights", "synth:tiny-block", "--pattern", "dense,2:4", "--bits", "8,4", "--engines",
        "none", "--db",      path("progress.db")};
    const CliResult piped = run_cli(study);
    QVERIFY2(piped.exit_code == 0, qPrintable(piped.describe()));
    QVERIFY2(!piped.err.contains('\r'), qPrintable(piped.err));
    // On a terminal (script(1) gives it one): done/total, elapsed and what is in flight, redrawn in place.
    if (QStandardPaths::findExecutable("script").isEmpty()) QSKIP("script(1) (util-linux) is not installed");
    auto on_terminal = [&](const QStringList& extra) {
      QStringList quoted;
      for (const QString& word : QStringList{NMSCOPE_CLI_PATH} + study + extra) quoted << "'" + word + "'";
      QProcess terminal;
      terminal.start("script", {"-qec", quoted.join(' ') + " >/dev/null", "/dev/null"});
      terminal.waitForFinished(120000);
      return QString::fromUtf8(terminal.readAllStandardOutput());
    };
    const QString shown = on_terminal({});
    QVERIFY2(shown.contains(QRegularExpression("\\[\\d+/12\\] \\d+:\\d\\d elapsed")), qPrintable(shown));
    QVERIFY(shown.contains("\r"));
    QVERIFY2(!on_terminal({"--quiet"}).contains("elapsed"), "--quiet silences the line");
    // model-eval too: the dense reference and each configuration in flight.
    QStringList eval = {
        NMSCOPE_CLI_PATH, "model-eval",
        "--model",        QStringLiteral(NMSCOPE_SOURCE_DIR "/tests/fixtures/models/tiny_llama"),
        "--eval",         QStringLiteral(NMSCOPE_SOURCE_DIR "/tests/fixtures/models/tiny_llama_tokens.npy"),
        "--pattern",      "2:4,1:4",
        "--db",           path("eval-progress.db")};
    for (QString& word : eval) word = "'" + word + "'";
    QProcess terminal;
    terminal.start("script", {"-qec", eval.join(' ') + " >/dev/null", "/dev/null"});
    terminal.waitForFinished(120000);
    const QString eval_shown = QString::fromUtf8(terminal.readAllStandardOutput());
    QVERIFY2(eval_shown.contains("[0/3]") && eval_shown.contains("dense reference of"), qPrintable(eval_shown));
  }

  void smallerUsageFixes() {
    // An unknown command is named, with the commands there are.
    expect_one_line_error(run_cli({"frobnicate"}), 2, "'frobnicate' is not a command (inspect, run, ");
    // A shape with two x's is a shape of the wrong kind, not a number that failed to parse.
    expect_one_line_error(run_cli({"bench", "--shapes", "64x64x64"}), 2, "'64x64x64' is not N_outxK");
    // A pattern, width or batch named twice is measured once.
    const QString db = path("duplicates.db");
    const CliResult twice = run_cli({"run", "--weights", "synth:16x32", "--pattern", "dense,dense,2:4", "--bits", "8,8",
                                     "--engines", "none", "--db", db});
    QVERIFY2(twice.exit_code == 0, qPrintable(twice.describe()));
    QCOMPARE(row_count(db), 2LL);
    // An array shape that is not Verilated is costed by the analytic model: the output says so under the row.
    const CliResult analytic = run_cli(
        {"run", "--weights", "synth:16x32", "--engines", "fpga", "--array", "5x7", "--db", path("analytic.db")});
    QVERIFY2(analytic.exit_code == 0, qPrintable(analytic.describe()));
    QVERIFY2(analytic.out.contains("cycles from the analytic model, not the RTL: array shape not Verilated"),
             qPrintable(analytic.out));
  }

  void exportWritesEveryTableAndStdout() {
    const QString db = path("export-tables.db");
    QCOMPARE(
        run_cli({"run", "--weights", "synth:16x32", "--pattern", "2:4", "--bits", "4", "--engines", "none", "--db", db})
            .exit_code,
        0);
    QCOMPARE(run_cli({"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4", "--batch", "1", "--context", "8",
                      "--timing-seconds", "0.01", "--db", db})
                 .exit_code,
             0);
    QCOMPARE(run_cli({"model", "--preset", "llama-7b", "--layers", "layers\\.0\\.self_attn\\.q_proj", "--pattern",
                      "2:4", "--bits", "4", "--db", db})
                 .exit_code,
             0);
    // "-" is stdout (it wrote a file named "-" before); the decode table holds the decode-step rows only.
    const CliResult decode = run_cli({"export", "--db", db, "--csv", "-", "--table", "decode"});
    QVERIFY2(decode.exit_code == 0, qPrintable(decode.describe()));
    const QStringList lines = decode.out.split("\r\n", Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 2);  // header, the baseline and cpu/int4-2:4
    QVERIFY(lines[0].startsWith("id,study_id,"));
    QVERIFY(lines[1].contains("decode-step"));
    QVERIFY(!QFile::exists(path("-")) && !QFile::exists("-"));
    // all: one file per table beside the name given.
    const CliResult all = run_cli({"export", "--db", db, "--csv", path("tables.csv"), "--table", "all"});
    QVERIFY2(all.exit_code == 0, qPrintable(all.describe()));
    for (const QString table : {"measurements", "model_evaluations", "model_rollups", "decode"})
      QVERIFY2(QFile::exists(path("tables." + table + ".csv")), qPrintable(table));
    QFile rollups(path("tables.model_rollups.csv"));
    QVERIFY(rollups.open(QIODevice::ReadOnly));
    QVERIFY(rollups.readAll().split('\n').size() > 2);
    expect_one_line_error(run_cli({"export", "--db", db, "--csv", "-", "--table", "nope"}), 2,
                          "--table: 'nope' is not a table to export");
    expect_one_line_error(run_cli({"export", "--db", db, "--csv", "-", "--table", "all"}), 2, "--csv");
  }

  void gpuFamilyWithoutAGpuStoresOnlyVariantsThatCouldRun() {
    const QString db = path("no-gpu.db");
    const CliResult result = run_cli({"run", "--weights", "synth:16x32", "--pattern", "2:4", "--bits", "4", "--engines",
                                      "gpu", "--db", db, "--json"});
    const QList<QJsonObject> rows = json_lines(result.out);
    if (!rows.isEmpty() && rows.front()["status"].toString() == "ok") QSKIP("a GPU is present");
    // cuBLAS (any weights), cuSPARSELt (2:4) and gpu/int4-2:4 could run 2:4 int4; the other eleven variants
    // (int8-dense, int3-nm, ...) have nothing to say about it and store no row.
    QStringList engines;
    for (const QJsonObject& row : rows) engines << row["engine"].toString();
    engines.sort();
    QCOMPARE(engines, (QStringList{"gpu/cublas-fp16-dense", "gpu/cusparselt-fp16-2:4", "gpu/int4-2:4"}));
    for (const QJsonObject& row : rows) {
      QCOMPARE(row["status"].toString(), QString("unavailable"));
      const QString note = row["note"].toString();
      // Said plainly: no GPU here (or no CUDA in this build), not "driver version is insufficient".
      QVERIFY2(note.startsWith("no NVIDIA GPU / driver found") || note.startsWith("built without CUDA") ||
                   note.contains("cuSPARSELt"),
               qPrintable(note));
    }
  }

  void resumeMeasuresUnavailableRowsWhereTheEngineNowRuns() {
    // A row stored "unavailable" (as on a host without the device) is measured again by --resume on a host where
    // the engine runs; it was kept forever before.
    const QString db = path("moved.db");
    const QStringList study = {"run", "--weights", "synth:16x32",          "--pattern",        "2:4",  "--bits",
                               "4",   "--engines", "cpu/eigen-fp32-dense", "--timing-seconds", "0.01", "--db",
                               db};
    QCOMPARE(run_cli(study).exit_code, 0);
    RawDatabase(db.toStdString()).exec("UPDATE measurements SET status = 'unavailable', time_us = NULL");
    const CliResult again = run_cli(study + QStringList{"--resume"});
    QVERIFY2(again.exit_code == 0, qPrintable(again.describe()));
    QVERIFY2(again.err.contains("1 measurements stored") && again.err.contains("0 were already stored"),
             qPrintable(again.err));
    // Measured once: a second resume finds the ok row.
    const CliResult third = run_cli(study + QStringList{"--resume"});
    QVERIFY2(third.err.contains("0 measurements stored") && third.err.contains("1 were already stored"),
             qPrintable(third.err));
  }

  // The CPU decode step beside both dense baselines: oneDNN's row is checked against the same weights in fp32, and a
  // packed variant's speedup names the faster baseline of its batch; the packed rows say what their kernels ran.
  void decodeOnTheCpuNamesTheStrongestDenseBaseline() {
    const CliResult decode =
        run_cli({"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4,cpu/onednn-bf16-dense,cpu/eigen-fp32-dense",
                 "--batch", "1,9", "--context", "8", "--timing-seconds", "0.01", "--json"});
    // Only a CPU without oneDNN's bf16 kernels may refuse it (test_onednn_engine says the same).
    if (decode.exit_code != 0 && decode.err.contains("no bf16 matmul")) QSKIP(qPrintable(decode.err));
    QVERIFY2(decode.exit_code == 0, qPrintable(decode.describe()));
    QStringList engines;
    for (const QString& line : decode.out.split('\n', Qt::SkipEmptyParts)) {
      const QJsonObject row = QJsonDocument::fromJson(line.toUtf8()).object();
      const QString engine = row["engine"].toString();
      engines << engine;
      if (engine == "cpu/onednn-bf16-dense") {
        QVERIFY(row["relative_error"].toDouble() > 0 && row["relative_error"].toDouble() < 5e-2);
        QCOMPARE(row["speedup_baseline"].toString(), QString("cpu/eigen-fp32-dense"));
        QVERIFY2(row["isa"].toString().startsWith("onednn "), qPrintable(row["isa"].toString()));
      } else if (engine == "cpu/int4-2:4") {
        const QString baseline = row["speedup_baseline"].toString();
        QVERIFY2(baseline == "cpu/eigen-fp32-dense" || baseline == "cpu/onednn-bf16-dense", qPrintable(baseline));
        QVERIFY(row["speedup"].toDouble() > 0);
        QVERIFY(row["relative_error"].toDouble() < 1e-4);  // fp32 activations (or the bf16 pair)
      }
    }
    // Baselines first (Eigen, then oneDNN), each at both batches.
    QCOMPARE(engines, (QStringList{"cpu/eigen-fp32-dense", "cpu/eigen-fp32-dense", "cpu/onednn-bf16-dense",
                                   "cpu/onednn-bf16-dense", "cpu/int4-2:4", "cpu/int4-2:4"}));
  }

  void decodeThatCannotFitIsRefusedBeforeAnyWork() {
    // LLaMA-7B at batch 1024 and context 4096 would need terabytes of KV cache: one line with what it needs, what
    // is available and what would fit, exit 2, no table (it ran into swap or the OOM killer before).
    const CliResult decode = run_cli({"decode", "--preset", "llama-7b", "--engines", "cpu/int4-2:4", "--batch",
                                      "1,1024", "--context", "4096", "--db", path("never-decode.db")});
    expect_one_line_error(decode, 2, "--batch: the CPU decode step at batch 1024, context 4096 needs about");
    QVERIFY(decode.err.contains(" available: run at most --batch "));
    QVERIFY(decode.out.isEmpty());
    QVERIFY(!QFile::exists(path("never-decode.db")) || row_count(path("never-decode.db")) == 0);
    const CliResult reproduce = run_cli({"reproduce", "hsieh2025", "--engines", "cpu", "--throughput-batch", "1024",
                                         "--context", "4096", "--db", path("never-reproduce.db")});
    QVERIFY2(reproduce.exit_code == 2, qPrintable(reproduce.describe()));
    QVERIFY2(reproduce.err.contains("--throughput-batch: the CPU decode step of LLaMA-7B at batch 1024, context 4096 "
                                    "needs about"),
             qPrintable(reproduce.err));
  }

  void aDamagedDatabaseIsNamedBeforeItIsWritten() {
    const QString db = path("damaged.db");
    QCOMPARE(run_cli({"run", "--weights", "synth:64x128+32x64+48x96", "--pattern", "dense,2:4,1:4,4:8", "--bits",
                      "8,4,3", "--engines", "none", "--db", db})
                 .exit_code,
             0);
    // Scribble over the middle of the file (a data or index page; the schema on page 1 stays readable).
    QFile file(db);
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.size() > 3 * 4096);
    file.seek(file.size() / 2);
    file.write(QByteArray(600, char(0x5a)));
    file.close();
    const CliResult again = run_cli({"run", "--weights", "synth:16x32", "--engines", "none", "--db", db});
    QVERIFY2(again.err.contains("fails SQLite's integrity check"), qPrintable(again.describe()));
  }

  void verifyGpuWithoutAGpuSaysSoOnStderr() {
    const CliResult result = run_cli({"verify", "--engine", "gpu", "--configs", "2"});
    if (result.exit_code == 0) QSKIP("a GPU is present: the suite verifies it");
    expect_one_line_error(result, 1, "nmscope-cli: verify: no GPU variant can run here");
  }

  // ---- inspect ------------------------------------------------------------------------------------------------

  void inspectSafetensorsJson() {
    const QString file = path("inspect.safetensors");
    nmscope::write_safetensors(file.toStdString(), {tensor("layer.weight", {8, 12}, DType::F16),
                                                    tensor("layer.bias", {8}, DType::F32),
                                                    tensor("conv.weight", {4, 3, 5}, DType::BF16)});
    const CliResult result = run_cli({"inspect", file, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 3);
    QMap<QString, QJsonObject> by_name;
    for (const auto& row : rows) by_name[row["name"].toString()] = row;
    QCOMPARE(by_name.keys(), QStringList({"conv.weight", "layer.bias", "layer.weight"}));
    QCOMPARE(by_name["layer.weight"]["dtype"].toString(), QString("F16"));
    QCOMPARE(by_name["layer.weight"]["shape"].toArray(), QJsonArray({8, 12}));
    QCOMPARE(by_name["layer.bias"]["dtype"].toString(), QString("F32"));
    QCOMPARE(by_name["layer.bias"]["shape"].toArray(), QJsonArray({8}));
    QCOMPARE(by_name["conv.weight"]["dtype"].toString(), QString("BF16"));
    QCOMPARE(by_name["conv.weight"]["shape"].toArray(), QJsonArray({4, 3, 5}));
    QVERIFY(result.err.isEmpty());
  }

  void inspectNpyTextAndJson() {
    const QString file = path("proj.npy");
    nmscope::write_npy(file.toStdString(), tensor("ignored", {6, 10}, DType::F64));

    const CliResult text = run_cli({"inspect", file});
    QVERIFY2(text.exit_code == 0, qPrintable(text.describe()));
    const QStringList lines = text.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines[0].startsWith("proj ") && lines[0].contains("[6, 10]"), qPrintable(lines[0]));

    const CliResult json = run_cli({"inspect", file, "--json"});
    QVERIFY2(json.exit_code == 0, qPrintable(json.describe()));
    const QList<QJsonObject> rows = json_lines(json.out);
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0]["name"].toString(), QString("proj"));  // an .npy's single array is named after the file stem
    QCOMPARE(rows[0]["dtype"].toString(), QString("F64"));
    QCOMPARE(rows[0]["shape"].toArray(), QJsonArray({6, 10}));
  }

  void inspectSynthetic() {
    const CliResult preset = run_cli({"inspect", "synth:tiny-block", "--json"});
    QVERIFY2(preset.exit_code == 0, qPrintable(preset.describe()));
    const QList<QJsonObject> rows = json_lines(preset.out);
    QCOMPARE(rows.size(), 3);
    for (const auto& row : rows) {
      QVERIFY(!row["name"].toString().isEmpty());
      QCOMPARE(row["shape"].toArray().size(), 2);
    }
    QCOMPARE(rows[0]["shape"].toArray(), QJsonArray({64, 96}));

    const CliResult shapes = run_cli({"inspect", "synth:16x32+8x24:dist=laplace:seed=7"});
    QVERIFY2(shapes.exit_code == 0, qPrintable(shapes.describe()));
    const QStringList lines = shapes.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines[0].contains("[16, 32]") && lines[1].contains("[8, 24]"), qPrintable(shapes.out));
  }

  // ---- run: fields and values ---------------------------------------------------------------------------------

  void runJsonFieldsAndPackedStorage() {
    const QString db = path("fields.db");
    const CliResult result = run_cli({"run", "--weights", "synth:64x96", "--pattern", "2:4", "--bits", "4",
                                      "--engines", "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 1);
    const QJsonObject& row = rows[0];
    for (const QString& key : kRequiredRunKeys) QVERIFY2(row.contains(key), qPrintable("missing key " + key));

    QCOMPARE(row["tensor"].toString(), QString("w0_64x96"));
    QCOMPARE(row["shape"].toArray(), QJsonArray({64, 96}));
    QCOMPARE(row["pattern"].toString(), QString("2:4"));
    QCOMPARE(row["bits"].toInt(), 4);
    QCOMPARE(row["granularity"].toString(), QString("group:128"));
    QCOMPARE(row["symmetric"].toBool(false), true);
    QCOMPARE(row["criterion"].toString(), QString("magnitude"));
    QCOMPARE(row["engine"].toString(), QString("none"));

    // docs/packed-format.md: S = ceil(K/M)*N slots per row; values ceil(S*b/8), metadata ceil(S*mb/8) per row,
    // fp16 scales [R, ceil(K/g)].
    const qint64 rows_out = 64, k = 96, slot_count = (k + 3) / 4 * 2;
    const qint64 expected = (slot_count * 4 + 7) / 8 * rows_out + (slot_count * 2 + 7) / 8 * rows_out + rows_out * ((k + 127) / 128) * 2;
    QCOMPARE(expected, qint64(2432));
    QCOMPARE(row["storage_bytes"].toInteger(), expected);
    QCOMPARE(row["compression_vs_fp16"].toDouble(), 2.0 * 64 * 96 / double(expected));

    const double weight_err = row["weight_rel_err"].toDouble();
    QVERIFY2(weight_err > 0.1 && weight_err < 1.0, qPrintable(QString::number(weight_err)));  // 2:4 drops half
    QVERIFY(row["output_rel_err"].toDouble() > 0);
    QVERIFY(std::abs(row["sqnr_db"].toDouble() + 20 * std::log10(weight_err)) < 1e-9);
    QVERIFY(!row.contains("time_us") && !row.contains("time_p10_us") && !row.contains("time_p90_us"));

    // The same row is in the database.
    RawDatabase raw(db.toStdString());
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 1LL);
    QCOMPARE(raw.integer("SELECT storage_bytes FROM measurements"), 2432LL);
    QCOMPARE(raw.text("SELECT engine FROM measurements"), std::string("none"));
  }

  void runGranularityAndSymmetry() {
    struct Case {
      QStringList arguments;
      QString granularity;
      bool symmetric;
    };
    const QList<Case> cases = {{{"--per-channel"}, "channel", true},
                               {{"--per-tensor", "--asym"}, "tensor", false},
                               {{"--group", "32"}, "group:32", true}};
    for (const Case& c : cases) {
      QStringList arguments = {"run", "--weights", "synth:8x64", "--engines", "none", "--db", path("granularity.db"),
                               "--json"};
      arguments << c.arguments;
      const CliResult result = run_cli(arguments);
      QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
      const QList<QJsonObject> rows = json_lines(result.out);
      QCOMPARE(rows.size(), 1);
      QCOMPARE(rows[0]["granularity"].toString(), c.granularity);
      QCOMPARE(rows[0]["symmetric"].toBool(!c.symmetric), c.symmetric);
    }
  }

  void runCrossProduct() {
    const QString db = path("cross.db");
    const CliResult result = run_cli({"run", "--weights", "synth:16x40+8x24", "--pattern", "dense,2:4,1:4", "--bits",
                                      "16,8,4", "--engines", "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 2 * 3 * 3);
    QSet<QString> combinations;
    for (const auto& row : rows) {
      const QString key = row["tensor"].toString() + " " + row["pattern"].toString() + " " +
                          QString::number(row["bits"].toInt());
      combinations.insert(key);
      QCOMPARE(row["engine"].toString(), QString("none"));
      if (row["bits"].toInt() == 16) QCOMPARE(row["granularity"].toString(), QString("none"));
      else QCOMPARE(row["granularity"].toString(), QString("group:128"));
    }
    QCOMPARE(combinations.size(), 18);
    for (const QString& tensor : {"w0_16x40", "w1_8x24"})
      for (const QString& pattern : {"dense", "2:4", "1:4"})
        for (int bits : {16, 8, 4})
          QVERIFY2(combinations.contains(tensor + " " + pattern + " " + QString::number(bits)), qPrintable(tensor));
    QCOMPARE(row_count(db), 18LL);
  }

  void runCpuFamilyPicksTheMatchingKernelVariant() {
    const QString db = path("family.db");
    const CliResult result = run_cli({"run", "--weights", "synth:32x300", "--pattern", "2:4,dense,3:7", "--bits", "4",
                                      "--engines", "cpu", "--timing-seconds", "0.01", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QSet<QString> engines;
    for (const auto& row : json_lines(result.out)) {
      engines.insert(row["pattern"].toString() + " " + row["engine"].toString());
      QVERIFY2(row["engine_rel_err"].toDouble(1) < 3e-2, qPrintable(QJsonDocument(row).toJson()));
    }
    // Per pattern: the two dense baselines and exactly one own kernel (the general N:M variant for 3:7).
    QCOMPARE(engines,
             (QSet<QString>{"2:4 cpu/eigen-fp32-dense", "2:4 cpu/onednn-bf16-dense", "2:4 cpu/int4-2:4",
                            "dense cpu/eigen-fp32-dense", "dense cpu/onednn-bf16-dense", "dense cpu/int4-dense",
                            "3:7 cpu/eigen-fp32-dense", "3:7 cpu/onednn-bf16-dense", "3:7 cpu/int4-nm"}));
  }

  void runTimedEngineRows() {
    const QString db = path("timed.db");
    const CliResult result = run_cli({"run", "--weights", "synth:32x64", "--pattern", "2:4,dense", "--bits", "4",
                                      "--engines", "cpu/eigen-fp32-dense", "--batch", "1,3", "--timing-seconds", "0.01",
                                      "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 2 * 2);  // patterns x batches, one cpu variant
    QSet<int> batches;
    for (const auto& row : rows) {
      for (const QString& key : kRequiredRunKeys) QVERIFY2(row.contains(key), qPrintable("missing key " + key));
      QCOMPARE(row["engine"].toString(), QString("cpu/eigen-fp32-dense"));
      batches.insert(row["batch"].toInt());
      const double median = row["time_us"].toDouble(-1), p10 = row["time_p10_us"].toDouble(-1),
                   p90 = row["time_p90_us"].toDouble(-1);
      QVERIFY2(median > 0 && p10 > 0 && p10 <= median && median <= p90, qPrintable(QJsonDocument(row).toJson()));
      QVERIFY(row.contains("engine_rel_err"));
      const double engine_err = row["engine_rel_err"].toDouble(1);
      QVERIFY2(engine_err >= 0 && engine_err < 1e-5, qPrintable(QString::number(engine_err)));
    }
    QCOMPARE(batches, QSet<int>({1, 3}));
    RawDatabase raw(db.toStdString());
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements WHERE time_us > 0 AND engine_rel_err < 1e-5"), 4LL);
  }

  // ---- export -------------------------------------------------------------------------------------------------

  void exportCsvMatchesDatabase() {
    const QString db = database_with_rows("export.db", 3);
    QCOMPARE(row_count(db), 3LL);
    const QString csv = path("export.csv");
    const CliResult result = run_cli({"export", "--db", db, "--csv", csv});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QVERIFY(text.endsWith("\r\n"));
    const QList<QStringList> records = csv_records(text);
    QCOMPARE(records.size(), 1 + 3);
    QStringList header;
    for (const auto& column : nmscope::measurement_columns()) header << QString::fromStdString(column);
    QCOMPARE(records[0], header);
    const int pattern_column = int(header.indexOf("pattern"));
    QVERIFY(pattern_column >= 0);
    QStringList patterns;
    for (qsizetype i = 1; i < records.size(); ++i) {
      QCOMPARE(records[i].size(), header.size());
      patterns << records[i][pattern_column];
    }
    QCOMPARE(patterns, QStringList({"dense", "2:4", "1:4"}));
  }

  void exportMissingDatabase() {
    const QString db = path("never-made.db");
    const QString csv = path("never-made.csv");
    const CliResult result = run_cli({"export", "--db", db, "--csv", csv});
    QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
    QCOMPARE(result.err_lines().size(), 1);
    QVERIFY2(result.err.contains(db), qPrintable(result.err));
    QVERIFY(!QFile::exists(db));
    QVERIFY(!QFile::exists(csv));
  }

  // ---- bad usage: exit 2, one line naming the option, nothing touched -----------------------------------------

  void badUsage_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("option");
    QTest::newRow("pattern N > M") << QStringList{"--pattern", "5:4"} << "--pattern";
    QTest::newRow("pattern 0:0") << QStringList{"--pattern", "0:0"} << "--pattern";
    QTest::newRow("pattern word") << QStringList{"--pattern", "2:4,sparse"} << "--pattern";
    QTest::newRow("bits 9") << QStringList{"--bits", "9"} << "--bits";
    QTest::newRow("bits 1") << QStringList{"--bits", "4,1"} << "--bits";
    QTest::newRow("group 0") << QStringList{"--group", "0"} << "--group";
    QTest::newRow("unknown engine") << QStringList{"--engines", "cpu,warp-drive"} << "--engines";
    QTest::newRow("wanda without activations") << QStringList{"--criterion", "wanda"} << "--criterion";
    QTest::newRow("unknown criterion") << QStringList{"--criterion", "random"} << "--criterion";
    QTest::newRow("batch 0") << QStringList{"--batch", "1,0"} << "--batch";
    QTest::newRow("timing seconds 0") << QStringList{"--timing-seconds", "0"} << "--timing-seconds";
    QTest::newRow("unknown option") << QStringList{"--frobnicate"} << "--frobnicate";
    QTest::newRow("group with per-channel") << QStringList{"--group", "64", "--per-channel"} << "--group";
  }

  void badUsage() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, option);
    const QString db = path("bad-usage.db");
    QFile::remove(db);
    QStringList full = {"run", "--weights", "synth:8x16", "--db", db, "--json"};
    full << arguments;
    const CliResult result = run_cli(full);
    QVERIFY2(result.exit_code == 2, qPrintable(result.describe()));
    QVERIFY2(result.err_lines().size() == 1, qPrintable(result.describe()));
    QVERIFY2(result.err.contains(option), qPrintable(result.describe()));
    QVERIFY(result.out.isEmpty());
    QVERIFY2(!QFile::exists(db), "bad usage must be refused before the database is opened");
  }

  void benchBadUsage_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("option");
    QTest::newRow("shape zero") << QStringList{"--shapes", "0x4"} << "--shapes";
    QTest::newRow("shape word") << QStringList{"--shapes", "4096x4096,big"} << "--shapes";
    QTest::newRow("batch word") << QStringList{"--batch", "1,x"} << "--batch";
    QTest::newRow("unknown engine") << QStringList{"--engines", "warp-drive"} << "--engines";
    QTest::newRow("bits 9") << QStringList{"--bits", "9"} << "--bits";
  }

  void benchBadUsage() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, option);
    const QString db = path("bench-bad.db");
    QFile::remove(db);
    const CliResult result = run_cli(QStringList{"bench", "--db", db} << arguments);
    QVERIFY2(result.exit_code == 2, qPrintable(result.describe()));
    QVERIFY2(result.err_lines().size() == 1 && result.err.contains(option), qPrintable(result.describe()));
    QVERIFY2(!QFile::exists(db), "bad usage must be refused before the database is opened");
  }

  void benchTimesVariantsBesideTheirBaseline() {
    const QString db = path("bench.db");
    const CliResult result = run_cli({"bench", "--engines", "cpu/int4-2:4", "--shapes", "16x256", "--batch", "1,3",
                                      "--pattern", "2:4", "--timing-seconds", "0.01", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 6);  // the kernel and its two baselines (added by bench), 2 batches each
    for (const auto& row : rows) {
      QVERIFY(row["gb_per_s"].toDouble() > 0);
      QVERIFY(row["memory_bandwidth_gb_per_s"].toDouble() > 0);
      QCOMPARE(row["baseline"].toString(), QString("cpu/eigen-fp32-dense"));
      if (row["engine"].toString() == "cpu/eigen-fp32-dense") QCOMPARE(row["speedup"].toDouble(), 1.0);
      else
        QVERIFY2(row["engine"].toString() == "cpu/int4-2:4" || row["engine"].toString() == "cpu/onednn-bf16-dense",
                 qPrintable(row["engine"].toString()));
    }
    QCOMPARE(row_count(db), 6LL);
  }

  // The oneDNN baseline's OpenMP reads a passive wait policy although the user set none: the CLI loads OpenMP only
  // with oneDNN's module, after asking for it (openmp_policy.hpp says why it matters).
  void benchRunsTheOneDnnBaselineWithPassiveOpenMp() {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove("OMP_WAIT_POLICY");
    const CliResult result =
        run_cli({"bench", "--engines", "cpu/onednn-bf16-dense", "--shapes", "16x256", "--batch", "1", "--pattern",
                 "dense", "--timing-seconds", "0.01", "--db", path("onednn.db"), "--json"},
                600000, {}, environment);
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    int onednn_rows = 0;
    for (const auto& row : json_lines(result.out)) {
      if (row["engine"].toString() != "cpu/onednn-bf16-dense") continue;
      ++onednn_rows;
      const QJsonObject details = row["details"].toObject();
      QCOMPARE(details["omp_wait_policy"].toString(), QString("PASSIVE"));
      QVERIFY2(!details["implementation"].toString().isEmpty(), qPrintable(QJsonDocument(row).toJson()));
      QVERIFY2(row["engine_rel_err"].toDouble(1) < 1e-2, qPrintable(QJsonDocument(row).toJson()));
    }
    QCOMPARE(onednn_rows, 1);
  }

  // Every CPU row names the strongest dense baseline timed beside it (the faster of Eigen and oneDNN for that layer
  // and batch) and its speedup over it.
  void benchNamesTheStrongestDenseBaseline() {
    const CliResult result =
        run_cli({"bench", "--engines", "cpu/int4-2:4", "--shapes", "64x256", "--batch", "1", "--pattern", "2:4",
                 "--timing-seconds", "0.01", "--db", path("strongest.db"), "--json"},
                600000);
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    std::map<QString, double> time_of;
    QJsonObject variant;
    for (const auto& row : json_lines(result.out)) {
      time_of[row["engine"].toString()] = row["time_us"].toDouble();
      if (row["engine"].toString() == "cpu/int4-2:4") variant = row;
    }
    QVERIFY(time_of.count("cpu/eigen-fp32-dense") && time_of.count("cpu/onednn-bf16-dense"));
    const QString strongest = time_of["cpu/eigen-fp32-dense"] <= time_of["cpu/onednn-bf16-dense"]
                                  ? "cpu/eigen-fp32-dense"
                                  : "cpu/onednn-bf16-dense";
    QCOMPARE(variant["strongest_dense_baseline"].toString(), strongest);
    // The details name the kernel that ran and how it walked the batch.
    QVERIFY2(!variant["details"].toObject()["kernel"].toString().isEmpty(),
             qPrintable(QJsonDocument(variant).toJson()));
    QVERIFY(std::abs(variant["speedup_vs_strongest_dense"].toDouble() -
                     time_of[strongest] / variant["time_us"].toDouble()) < 1e-9);
  }

  void badUsageKeepsExistingDatabase() {
    const QString db = database_with_rows("bad-usage-existing.db", 2);
    check_database_untouched(db, {"run", "--weights", "synth:8x16", "--pattern", "5:4"}, 2);
    check_database_untouched(db, {"run", "--weights", "synth:8x16", "--bits", "9"}, 2);
  }

  // ---- bad files: exit 1, one line naming the file ------------------------------------------------------------

  void badFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content");  // empty: the file does not exist
    QTest::newRow("missing") << path("missing.npy") << QByteArray();

    const QString good_npy = path("whole.npy");
    nmscope::write_npy(good_npy.toStdString(), tensor("x", {16, 32}));
    QFile whole(good_npy);
    whole.open(QIODevice::ReadOnly);
    const QByteArray bytes = whole.readAll();
    QTest::newRow("truncated npy") << path("truncated.npy") << bytes.left(bytes.size() / 2);

    QByteArray not_json;
    const QByteArray header = "this is { not JSON at all";
    quint64 length = quint64(header.size());
    for (int i = 0; i < 8; ++i) not_json.append(char((length >> (8 * i)) & 0xff));
    not_json += header + QByteArray(64, '\0');
    QTest::newRow("safetensors header not JSON") << path("garbled.safetensors") << not_json;
  }

  void badFiles() {
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    if (!content.isEmpty()) {
      QFile out(file);
      QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
      out.write(content);
    }

    const CliResult inspect = run_cli({"inspect", file});
    QVERIFY2(inspect.exit_code == 1, qPrintable(inspect.describe()));
    QVERIFY2(inspect.err_lines().size() == 1 && inspect.err.contains(file), qPrintable(inspect.describe()));

    const QString db = database_with_rows("bad-file.db", 2);
    const CliResult run = run_cli({"run", "--weights", file, "--engines", "none", "--db", db, "--json"});
    QVERIFY2(run.exit_code == 1, qPrintable(run.describe()));
    QVERIFY2(run.err_lines().size() == 1 && run.err.contains(file), qPrintable(run.describe()));
    QCOMPARE(row_count(db), 2LL);
    QCOMPARE(integrity(db), std::string("ok"));
    QFile::remove(db);
  }

  void failingRunsKeepDatabase() {
    const QString db = database_with_rows("keep.db", 3);
    check_database_untouched(db, {"run", "--weights", path("nowhere.safetensors")}, 1);
    check_database_untouched(db, {"run", "--weights", "synth:8x16", "--tensor", "no.such.tensor"}, 1);
    check_database_untouched(db, {"run", "--weights", "synth:8x16", "--activations", path("no-activations.npy")}, 1);
  }

  // ---- a bad tensor among good ones ---------------------------------------------------------------------------

  void missingTensorIsSkipped() {
    const QString db = path("missing-tensor.db");
    const CliResult result = run_cli({"run", "--weights", "synth:tiny-block", "--tensor", "block.attn.q_proj.weight",
                                      "--tensor", "block.no_such.weight", "--pattern", "2:4,dense", "--engines",
                                      "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
    QVERIFY2(result.err_lines().size() == 1 && result.err.contains("block.no_such.weight"), qPrintable(result.describe()));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 2);
    for (const auto& row : rows) QCOMPARE(row["tensor"].toString(), QString("block.attn.q_proj.weight"));
    RawDatabase raw(db.toStdString());
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements WHERE tensor = 'block.attn.q_proj.weight'"), 2LL);
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 2LL);
  }

  void nonFiniteTensorIsSkipped() {
    const QString file = path("nan.safetensors");
    TensorToWrite poisoned = tensor("poisoned.weight", {8, 16}, DType::F32, 5);
    poisoned.values[37] = std::nanf("");
    TensorToWrite infinite = tensor("infinite.weight", {8, 16}, DType::F16, 6);
    infinite.values[3] = INFINITY;
    nmscope::write_safetensors(file.toStdString(),
                               {tensor("good.weight", {8, 16}, DType::F32, 4), poisoned, infinite});
    const QString db = path("nan.db");
    const CliResult result = run_cli({"run", "--weights", file, "--pattern", "2:4", "--bits", "4,8", "--engines",
                                      "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
    const QStringList errors = result.err_lines();
    QVERIFY2(errors.size() == 2, qPrintable(result.describe()));
    QVERIFY2(result.err.contains("poisoned.weight") && result.err.contains("infinite.weight"),
             qPrintable(result.describe()));
    QVERIFY(!result.err.contains("good.weight"));
    const QList<QJsonObject> rows = json_lines(result.out);
    QCOMPARE(rows.size(), 2);
    for (const auto& row : rows) QCOMPARE(row["tensor"].toString(), QString("good.weight"));
    RawDatabase raw(db.toStdString());
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 2LL);
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements WHERE tensor = 'good.weight'"), 2LL);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
  }

  // ---- wanda --------------------------------------------------------------------------------------------------

  void wandaActivationsWithWrongK() {
    const QString activations = path("activations-k50.npy");
    nmscope::write_npy(activations.toStdString(), {"x", DType::F32, {32, 50}, normal_values(32 * 50, 9)});
    const QString db = path("wanda-wrong-k.db");
    const CliResult result = run_cli({"run", "--weights", "synth:16x96", "--criterion", "wanda", "--activations",
                                      activations, "--engines", "none", "--db", db, "--json"});
    QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
    QVERIFY2(result.err_lines().size() == 1 && result.err.contains(activations), qPrintable(result.describe()));
    QVERIFY(result.out.isEmpty());
    QVERIFY(row_count(db) <= 0);
  }

  // Activations where a few input channels are 100x larger than the rest: magnitude pruning ignores them and drops
  // about half of the weights that multiply them; wanda scores |w| * ||X_j|| and keeps them (one outlier channel
  // per group of 4, so 2:4 can always keep it), so its output error must be clearly lower.
  void wandaBeatsMagnitudeOnOutlierChannels() {
    constexpr int tokens = 128, k = 96;
    std::vector<float> values = normal_values(size_t(tokens) * k, 11);
    for (int token = 0; token < tokens; ++token)
      for (int column = 1; column < k; column += 12) values[size_t(token) * k + column] *= 100.0f;
    const QString activations = path("activations-outliers.npy");
    nmscope::write_npy(activations.toStdString(), {"x", DType::F32, {tokens, k}, values});

    auto output_error = [&](const QString& criterion) -> double {
      QStringList arguments = {"run", "--weights", "synth:64x96:dist=normal:seed=3", "--pattern", "2:4", "--bits",
                               "8", "--criterion", criterion, "--activations", activations, "--engines", "none",
                               "--db", path("wanda.db"), "--json"};
      const CliResult result = run_cli(arguments);
      if (result.exit_code != 0) qWarning().noquote() << result.describe();
      const QList<QJsonObject> rows = json_lines(result.out);
      if (rows.size() != 1 || rows[0]["criterion"].toString() != criterion) return -1;
      return rows[0]["output_rel_err"].toDouble(-1);
    };
    const double magnitude = output_error("magnitude");
    const double wanda = output_error("wanda");
    QVERIFY2(magnitude > 0 && wanda > 0, qPrintable(QString("magnitude %1, wanda %2").arg(magnitude).arg(wanda)));
    QVERIFY2(wanda < 0.5 * magnitude, qPrintable(QString("magnitude %1, wanda %2").arg(magnitude).arg(wanda)));
    QCOMPARE(row_count(path("wanda.db")), 2LL);
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
