// nmscope-cli slurm against a real Slurm: scripts/slurm-local.sh starts munged, slurmctld and slurmd on this machine
// (private ports, state and key), then a 4-shard sweep is submitted, merged by its merge job and compared with the
// unsharded sweep; a second sweep has one shard cancelled while it runs (scancel), and `slurm resubmit` sends that
// shard alone, after which the merged database holds every planned point exactly once. Skips, saying why, when the
// daemons cannot start here (not root, slurm-wlm or munge missing).
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <set>

#include "cli_process.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/slurm_status.hpp"
#include "nmscope/slurm_sweep.hpp"
#include "nmscope/sweep_plan.hpp"
#include "sweep_test_support.hpp"

using nmscope::test::CliResult;
using nmscope::test::run_cli;
using sweep_test::RawDatabase;

namespace {

constexpr int kShards = 4;
constexpr int kWaitMs = 120000;

// Shards of a few seconds each (1024-wide layers timed for 1.5 s a point), so that one can be cancelled mid-run.
std::string slow_spec() {
  return R"({
  "sources": ["synth:1024x1024+768x1024:seed=5"],
  "patterns": ["dense", "2:4"],
  "bits": [8, 4],
  "engines": ["cpu/eigen-fp32-dense"],
  "batches": [16, 32],
  "timing_seconds": 1.5
})";
}

// The measurement keys a sweep plans, in the form RawDatabase::keys() reads them from a database (minus the content
// hash, which the plan does not know): what the merged database must hold, once each.
std::multiset<std::string> planned_keys(const std::string& spec_path) {
  const nmscope::SweepSpec spec = nmscope::read_sweep_spec(spec_path);
  const nmscope::SweepPlan plan = nmscope::plan_sweep(spec, nmscope::list_sweep_tensors(spec));
  std::multiset<std::string> keys;
  for (const auto& point : plan.points) {
    const auto& tensor = plan.tensors[point.tensor];
    keys.insert(spec.sources[tensor.source] + "|" + tensor.name + "|" + spec.patterns[point.pattern].to_string() + "|" +
                std::to_string(spec.bits[point.bits]) + "|" + nmscope::criterion_name(spec.criteria[point.criterion]) +
                "|" + plan.engines[point.engine] + "|" + std::to_string(spec.batches[point.batch]));
  }
  return keys;
}

std::multiset<std::string> merged_keys(const std::string& database) {
  RawDatabase raw(database);
  std::multiset<std::string> keys;
  for (const std::string& key : raw.keys()) {
    // source|hash|tensor|pattern|bits|granularity|symmetric|criterion|engine|batch -> without hash, grid, symmetry.
    QStringList parts = QString::fromStdString(key).split('|');
    keys.insert(
        QStringList{parts[0], parts[2], parts[3], parts[4], parts[7], parts[8], parts[9]}.join('|').toStdString());
  }
  return keys;
}

}  // namespace

class TestSlurmCluster : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString cluster_;
  bool started_ = false;

  QString path(const QString& name) const { return dir_.filePath(name); }

  static QString slurm_local(const QString& action, const QString& directory, QString* err = nullptr) {
    QProcess process;
    process.start(NMSCOPE_SLURM_LOCAL, {action, directory});
    process.waitForFinished(60000);
    if (err) *err = QString::fromUtf8(process.readAllStandardError()).trimmed();
    return process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0
               ? QString::fromUtf8(process.readAllStandardOutput()).trimmed()
               : QString();
  }

  // Until the latest merge job has left the queue (and so every shard before it).
  static nmscope::SlurmSweepStatus wait_for_merge(const QString& directory) {
    QElapsedTimer waited;
    waited.start();
    for (;;) {
      const auto sweep = nmscope::read_slurm_sweep(directory.toStdString());
      const auto status = nmscope::slurm_sweep_status(sweep);
      if (status.merge_ended() || waited.elapsed() > kWaitMs) return status;
      QThread::msleep(250);
    }
  }

  static QString describe(const nmscope::SlurmSweepStatus& status) {
    QString text;
    for (const auto& shard : status.shards)
      text += QString("shard %1 %2 %3: %4/%5 %6\n")
                  .arg(shard.shard)
                  .arg(QString::fromStdString(shard.job), QString::fromStdString(shard.state))
                  .arg(shard.database.present)
                  .arg(shard.database.planned)
                  .arg(QString::fromStdString(shard.database.describe()));
    return text + "merge " + QString::fromStdString(status.merge_job + " " + status.merge_state);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    cluster_ = path("cluster");
    QString why;
    QElapsedTimer started;
    started.start();
    const QString conf = slurm_local("start", cluster_, &why);
    if (!conf.startsWith("SLURM_CONF=")) QSKIP(qPrintable("no local Slurm cluster here: " + why));
    started_ = true;
    qputenv("SLURM_CONF", conf.mid(int(strlen("SLURM_CONF="))).toUtf8());
    qInfo("local Slurm up in %lld ms", static_cast<long long>(started.elapsed()));
  }

  void cleanupTestCase() {
    if (started_) slurm_local("stop", cluster_);
  }

  void shardedSweepMergesIntoTheUnshardedOne() {
    QElapsedTimer timer;
    timer.start();
    const QString spec = path("sweep.json");
    sweep_test::write_file(spec, sweep_test::small_spec());
    const QString run = path("run-full");
    const CliResult submitted =
        run_cli({"slurm", "submit", "--spec", spec, "--shards", QString::number(kShards), "--dir", run});
    QVERIFY2(submitted.exit_code == 0, qPrintable(submitted.describe()));
    QVERIFY2(submitted.out.contains("array job ") && submitted.out.contains("merge job "), qPrintable(submitted.out));
    QVERIFY(QFile::exists(run + "/shards.sbatch"));

    const auto status = wait_for_merge(run);
    QVERIFY2(status.merge_ended(), qPrintable(describe(status)));
    QVERIFY2(status.missing_shards().empty(), qPrintable(describe(status)));
    for (const auto& shard : status.shards) QCOMPARE(QString::fromStdString(shard.state), QString("COMPLETED"));

    const QString once = path("unsharded.db");
    const CliResult unsharded = run_cli({"sweep", "--spec", spec, "--db", once});
    QVERIFY2(unsharded.exit_code == 0, qPrintable(unsharded.describe()));
    const std::string merged = (run + "/all.db").toStdString();
    QVERIFY2(QFile::exists(QString::fromStdString(merged)), qPrintable(describe(status)));
    const auto keys = RawDatabase(merged).keys();
    QCOMPARE(keys, RawDatabase(once.toStdString()).keys());
    QCOMPARE(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
    // Provenance: each task is a job of its own in Slurm, with its array index.
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM sweep_shards WHERE slurm_job_id != ''"), kShards);
    QCOMPARE(RawDatabase(merged).integer("SELECT count(DISTINCT slurm_array_task_id) FROM sweep_shards "
                                         "WHERE slurm_array_task_id = CAST(shard_index AS TEXT)"),
             kShards);
    qInfo("4-shard sweep submitted, run and merged in %lld ms", static_cast<long long>(timer.elapsed()));
  }

  // A job killed mid-copy leaves a database that fails the integrity check: status names it, resubmit moves it
  // aside and runs that shard afresh, and the next merge job completes the merged database.
  void truncatedShardIsMovedAsideAndRunAgain() {
    const QString run = path("run-full");
    const QString shard = run + "/shard-2.db";
    QFile::remove(shard + "-wal");
    QFile::remove(shard + "-shm");
    QFile file(shard);
    QVERIFY(file.resize(file.size() / 2));
    const auto broken = nmscope::slurm_sweep_status(nmscope::read_slurm_sweep(run.toStdString()));
    QCOMPARE(broken.missing_shards(), std::vector<int>{2});
    QVERIFY2(broken.shards[2].database.describe().rfind("broken: ", 0) == 0, qPrintable(describe(broken)));

    const CliResult resubmitted = run_cli({"slurm", "resubmit", "--dir", run});
    QVERIFY2(resubmitted.exit_code == 0, qPrintable(resubmitted.describe()));
    QVERIFY(QFile::exists(shard + ".broken-1"));
    const auto finished = wait_for_merge(run);
    QVERIFY2(finished.merge_ended() && finished.missing_shards().empty(), qPrintable(describe(finished)));
    const auto keys = RawDatabase((run + "/all.db").toStdString()).keys();
    QCOMPARE(keys, RawDatabase(path("unsharded.db").toStdString()).keys());
  }

  void cancelledShardIsResubmittedAlone() {
    QElapsedTimer timer;
    timer.start();
    const QString spec = path("slow.json");
    sweep_test::write_file(spec, slow_spec());
    const QString run = path("run-cancel");
    const CliResult submitted =
        run_cli({"slurm", "submit", "--spec", spec, "--shards", QString::number(kShards), "--dir", run});
    QVERIFY2(submitted.exit_code == 0, qPrintable(submitted.describe()));

    // Cancel shard 1 as soon as it runs: it has measured little or nothing by then.
    constexpr int victim = 1;
    QString cancelled_job;
    QElapsedTimer waited;
    waited.start();
    while (cancelled_job.isEmpty() && waited.elapsed() < kWaitMs) {
      const auto status = nmscope::slurm_sweep_status(nmscope::read_slurm_sweep(run.toStdString()));
      if (status.shards[victim].state == "RUNNING") {
        cancelled_job = QString::fromStdString(status.shards[victim].job);
        QProcess scancel;
        scancel.start("scancel", {cancelled_job});
        QVERIFY(scancel.waitForFinished(30000));
        QCOMPARE(scancel.exitCode(), 0);
      } else {
        QVERIFY2(status.shards[victim].state == "PENDING", qPrintable(describe(status)));
        QThread::msleep(100);
      }
    }
    QVERIFY2(!cancelled_job.isEmpty(), "shard 1 never ran");

    const auto after_cancel = wait_for_merge(run);
    QVERIFY2(after_cancel.merge_ended(), qPrintable(describe(after_cancel)));
    QCOMPARE(QString::fromStdString(after_cancel.shards[victim].state), QString("CANCELLED"));
    QCOMPARE(after_cancel.missing_shards(), std::vector<int>{victim});
    const CliResult status_text = run_cli({"slurm", "status", "--dir", run});
    QVERIFY2(status_text.exit_code == 0, qPrintable(status_text.describe()));
    QVERIFY2(status_text.out.contains("1 shard(s) to resubmit: 1"), qPrintable(status_text.out));

    const CliResult resubmitted = run_cli({"slurm", "resubmit", "--dir", run});
    QVERIFY2(resubmitted.exit_code == 0, qPrintable(resubmitted.describe()));
    QVERIFY2(resubmitted.out.contains("shards 1 of 4"), qPrintable(resubmitted.out));
    QFile script(run + "/shards-resubmit-1.sbatch");
    QVERIFY(script.open(QIODevice::ReadOnly));
    QVERIFY(script.readAll().contains("#SBATCH --array=1\n"));

    const auto finished = wait_for_merge(run);
    QVERIFY2(finished.merge_ended(), qPrintable(describe(finished)));
    QVERIFY2(finished.missing_shards().empty(), qPrintable(describe(finished)));
    QCOMPARE(finished.present(), finished.planned());
    const std::string merged = (run + "/all.db").toStdString();
    const auto keys = merged_keys(merged);
    QCOMPARE(keys, planned_keys(spec.toStdString()));
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM measurements"), (long long)keys.size());

    // Nothing is missing now: a second resubmit sends nothing.
    const CliResult again = run_cli({"slurm", "resubmit", "--dir", run});
    QVERIFY2(again.exit_code == 0 && again.out.contains("nothing to resubmit"), qPrintable(again.describe()));
    qInfo("cancel, resubmit and merge in %lld ms", static_cast<long long>(timer.elapsed()));
  }
};

QTEST_GUILESS_MAIN(TestSlurmCluster)
#include "test_slurm_cluster.moc"
