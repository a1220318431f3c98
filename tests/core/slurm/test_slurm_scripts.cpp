// Everything of `nmscope-cli slurm` that needs no cluster: the scripts a dry run writes (one array task per shard,
// GPU requests only for GPU engines, the merge job), the state file, the squeue / sacct parsers, and each refusal's
// exit status and one-line message (sbatch missing, too many shards, a bad time limit, a spec error, no sweep).
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_process.hpp"
#include "nmscope/error.hpp"
#include "nmscope/slurm_status.hpp"
#include "nmscope/slurm_sweep.hpp"
#include "sweep_test_support.hpp"

using nmscope::test::CliResult;
using nmscope::test::expect_one_line_error;
using nmscope::test::run_cli;

class TestSlurmScripts : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString spec_;

  QString path(const QString& name) const { return dir_.filePath(name); }

  static QString read(const QString& file) {
    QFile in(file);
    return in.open(QIODevice::ReadOnly) ? QString::fromUtf8(in.readAll()) : QString();
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    spec_ = path("sweep.json");
    sweep_test::write_file(spec_, sweep_test::small_spec());
  }

  void arrayRanges() {
    QCOMPARE(nmscope::slurm_array_range({0, 1, 2, 3}), std::string("0-3"));
    QCOMPARE(nmscope::slurm_array_range({3, 7}), std::string("3,7"));
    QCOMPARE(nmscope::slurm_array_range({5}), std::string("5"));
  }

  void dryRunWritesReadableScripts() {
    const QString run = path("dry");
    const CliResult result = run_cli({"slurm", "submit", "--spec", spec_, "--shards", "4", "--dir", run, "--partition",
                                      "batch", "--time", "01:30:00", "--setup", "module load nmscope", "--dry-run"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("dry run: nothing submitted"), qPrintable(result.out));
    const QString array = read(run + "/shards.sbatch");
    QVERIFY2(array.startsWith("#!/bin/bash\n"), qPrintable(array));
    QVERIFY(array.contains("#SBATCH --array=0-3\n"));
    QVERIFY(array.contains("#SBATCH --partition=batch\n"));
    QVERIFY(array.contains("#SBATCH --time=01:30:00\n"));
    QVERIFY2(!array.contains("--gres"), "no GPU engine, no GPU request");
    QVERIFY(array.contains("module load nmscope\n"));
    QVERIFY(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""));
    QVERIFY(array.contains("shard-'\"${SLURM_ARRAY_TASK_ID}.db\""));
    QVERIFY(array.contains(QString(NMSCOPE_CLI_PATH)));
    const QString merge = read(run + "/merge.sbatch");
    QVERIFY(merge.contains("merge --out all.db \"${shards[@]}\""));
    QVERIFY(merge.contains("afterany"));
    QVERIFY(QFileInfo(run + "/shards.sbatch").isExecutable());
    QVERIFY(QDir(run + "/logs").exists());
    // The copy the tasks read, and a state file without submissions.
    QCOMPARE(read(run + "/sweep.json"), read(spec_));
    const nmscope::SlurmSweep sweep = nmscope::read_slurm_sweep(run.toStdString());
    QCOMPARE(sweep.shard_count, 4);
    QCOMPARE(sweep.points, int64_t{sweep_test::kSmallSpecPoints});
    QVERIFY(sweep.submissions.empty());
    QCOMPARE(sweep.gpus_per_shard, 0);
    QCOMPARE(sweep.setup, std::vector<std::string>{"module load nmscope"});

    // A bash syntax check of both scripts: what sbatch would hand to bash.
    for (const QString& script : {run + "/shards.sbatch", run + "/merge.sbatch"}) {
      QProcess bash;
      bash.start("bash", {"-n", script});
      QVERIFY(bash.waitForFinished());
      QVERIFY2(bash.exitCode() == 0, qPrintable(bash.readAllStandardError()));
    }
  }

  void gpuEnginesRequestGpus() {
    const QString spec = path("gpu.json");
    sweep_test::write_file(spec, R"({"sources": ["synth:64x128"], "engines": ["cpu/eigen-fp32-dense", "gpu"],
                                     "batches": [1]})");
    const QString run = path("gpu");
    CliResult result = run_cli({"slurm", "submit", "--spec", spec, "--shards", "2", "--dir", run, "--dry-run"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY(read(run + "/shards.sbatch").contains("#SBATCH --gres=gpu:1\n"));
    const QString two = path("gpu2");
    result = run_cli(
        {"slurm", "submit", "--spec", spec, "--shards", "2", "--dir", two, "--gpus-per-shard", "2", "--dry-run"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY(read(two + "/shards.sbatch").contains("#SBATCH --gres=gpu:2\n"));
    // --gpus-per-shard on a sweep without GPU engines requests nothing.
    const QString none = path("cpu-only");
    result = run_cli(
        {"slurm", "submit", "--spec", spec_, "--shards", "2", "--dir", none, "--gpus-per-shard", "2", "--dry-run"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY(!read(none + "/shards.sbatch").contains("--gres"));
  }

  void missingSbatchIsNamed() {
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("PATH", path("no-such-bin"));
    process.setProcessEnvironment(environment);
    process.start(NMSCOPE_CLI_PATH, {"slurm", "submit", "--spec", spec_, "--shards", "2", "--dir", path("nosbatch")});
    QVERIFY(process.waitForFinished(60000));
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QCOMPARE(process.exitCode(), 1);
    QCOMPARE(err.split('\n', Qt::SkipEmptyParts).size(), 1);
    QVERIFY2(err.contains("sbatch: not found on PATH"), qPrintable(err));
    // The scripts are there to submit by hand.
    QVERIFY(QFile::exists(path("nosbatch/shards.sbatch")));
  }

  void aFolderHoldingASubmissionIsRefusedUnlessForced() {
    // A stand-in sbatch that accepts everything: what matters here is the folder, not the cluster.
    QDir().mkpath(path("fake-bin"));
    sweep_test::write_file(path("fake-bin/sbatch"), "#!/bin/sh\necho 4242\n");
    QFile::setPermissions(path("fake-bin/sbatch"), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("PATH", path("fake-bin") + ":" + environment.value("PATH"));
    auto submit = [&](const QStringList& extra) {
      QProcess process;
      process.setProcessEnvironment(environment);
      process.start(NMSCOPE_CLI_PATH,
                    QStringList{"slurm", "submit", "--spec", spec_, "--shards", "2", "--dir", path("taken")} + extra);
      process.waitForFinished(60000);
      return std::pair{process.exitCode(), QString::fromUtf8(process.readAllStandardError())};
    };
    const auto first = submit({});
    QVERIFY2(first.first == 0, qPrintable(first.second));
    sweep_test::write_file(path("taken/shard-0.db"), "an earlier shard's rows");
    // Submitting there again would overwrite its state and merge its old shard databases: refused, named.
    const auto again = submit({});
    QCOMPARE(again.first, 1);
    QCOMPARE(again.second.split('\n', Qt::SkipEmptyParts).size(), 1);
    QVERIFY2(again.second.contains("taken: holds a submitted sweep (1 submission, 2 shards)") &&
                 again.second.contains("--dir") && again.second.contains("--force"),
             qPrintable(again.second));
    QCOMPARE(read(path("taken/shard-0.db")), QString("an earlier shard's rows"));
    // Shard databases without a state file are somebody's results too.
    QDir().mkpath(path("loose"));
    sweep_test::write_file(path("loose/shard-3.db"), "rows");
    QProcess loose;
    loose.setProcessEnvironment(environment);
    loose.start(NMSCOPE_CLI_PATH, {"slurm", "submit", "--spec", spec_, "--shards", "2", "--dir", path("loose")});
    loose.waitForFinished(60000);
    QCOMPARE(loose.exitCode(), 1);
    QVERIFY(QString::fromUtf8(loose.readAllStandardError()).contains("holds 1 shard database(s)"));
    // --force moves the earlier submission aside, whole, and submits afresh.
    const auto forced = submit({"--force"});
    QVERIFY2(forced.first == 0, qPrintable(forced.second));
    const QStringList aside = QDir(path("taken")).entryList({"previous-*"}, QDir::Dirs);
    QCOMPARE(aside.size(), 1);
    QCOMPARE(read(path("taken/" + aside[0] + "/shard-0.db")), QString("an earlier shard's rows"));
    QVERIFY(QFile::exists(path("taken/" + aside[0] + "/slurm.json")));
    QVERIFY(!QFile::exists(path("taken/shard-0.db")));
    QVERIFY(read(path("taken/slurm.json")).contains("4242"));

    // squeue and sacct that cannot reach the controller: the states are unknown, said with the reason, and no
    // shard is resubmitted on a guess (they read ENDED before, and resubmit would have sent them again).
    sweep_test::write_file(path("fake-bin/squeue"),
                           "#!/bin/sh\necho 'slurm_load_jobs error: Unable to contact slurm controller' >&2\nexit 1\n");
    sweep_test::write_file(path("fake-bin/sacct"),
                           "#!/bin/sh\necho 'sacct: error: Problem talking to the database' >&2\nexit 1\n");
    for (const char* tool : {"fake-bin/squeue", "fake-bin/sacct"})
      QFile::setPermissions(path(tool), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    for (const char* verb : {"status", "resubmit"}) {
      QProcess process;
      process.setProcessEnvironment(environment);
      process.start(NMSCOPE_CLI_PATH, {"slurm", verb, "--dir", path("taken")});
      process.waitForFinished(60000);
      const QString out = QString::fromUtf8(process.readAllStandardOutput());
      QVERIFY2(process.exitCode() == 0, qPrintable(out + process.readAllStandardError()));
      QVERIFY2(out.contains("UNKNOWN") && !out.contains("ENDED"), qPrintable(out));
      QVERIFY2(out.contains("squeue failed: slurm_load_jobs error: Unable to contact slurm controller; states unknown"),
               qPrintable(out));
      if (QString(verb) == "resubmit") QVERIFY2(out.contains("nothing to resubmit"), qPrintable(out));
    }
  }

  void refusals() {
    expect_one_line_error(
        run_cli({"slurm", "submit", "--spec", spec_, "--shards", "33", "--dir", path("x"), "--dry-run"}), 2,
        "--shards: 33 is more shards than the sweep has points (32)");
    expect_one_line_error(run_cli({"slurm", "submit", "--spec", spec_, "--shards", "2", "--time", "soon", "--dir",
                                   path("x"), "--dry-run"}),
                          2, "--time: 'soon' is not a Slurm time limit");
    expect_one_line_error(run_cli({"slurm", "submit", "--spec", spec_, "--shards", "2", "--partition", "a b", "--dir",
                                   path("x"), "--dry-run"}),
                          2, "--partition");
    const QString bad = path("bad.json");
    sweep_test::write_file(bad, R"({"sources": ["synth:64x64"], "enignes": ["cpu"]})");
    expect_one_line_error(run_cli({"slurm", "submit", "--spec", bad, "--shards", "2", "--dir", path("x"), "--dry-run"}),
                          1, "\"enignes\": unknown key");
    expect_one_line_error(run_cli({"slurm", "status", "--dir", path("nothing-here")}), 1, "no Slurm sweep here");
    expect_one_line_error(run_cli({"slurm", "resubmit", "--dir", path("nothing-here")}), 1, "no Slurm sweep here");
    QDir().mkpath(path("garbled"));
    sweep_test::write_file(path("garbled/slurm.json"), "{\"version\": 1, \"shards\": ");
    expect_one_line_error(run_cli({"slurm", "status", "--dir", path("garbled")}), 1, "not a valid Slurm sweep state");
    expect_one_line_error(run_cli({"slurm"}), 2, "");
  }

  void statusWithoutSubmissionListsEveryShard() {
    const CliResult result = run_cli({"slurm", "status", "--dir", path("dry")});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("NOT SUBMITTED"), qPrintable(result.out));
    QVERIFY2(result.out.contains("0 of 32 rows"), qPrintable(result.out));
  }

  void squeueAndSacctParse() {
    const auto queued = nmscope::parse_squeue_states("12_0|RUNNING\n12_3|PENDING\n13|PENDING\n");
    QCOMPARE(queued.size(), std::size_t{3});
    QCOMPARE(queued.at("12_0"), std::string("RUNNING"));
    QCOMPARE(queued.at("13"), std::string("PENDING"));
    const auto accounted =
        nmscope::parse_sacct_states("12_1|COMPLETED\n12_2|CANCELLED by 0\n12_[4-5,7%2]|PENDING\n13|FAILED\ngarbage\n");
    QCOMPARE(accounted.at("12_2"), std::string("CANCELLED"));
    QCOMPARE(accounted.at("12_4"), std::string("PENDING"));
    QCOMPARE(accounted.at("12_5"), std::string("PENDING"));
    QCOMPARE(accounted.at("12_7"), std::string("PENDING"));
    QVERIFY(!accounted.count("12_6"));
    QCOMPARE(accounted.at("13"), std::string("FAILED"));
    QVERIFY(nmscope::is_active_slurm_state("PENDING"));
    QVERIFY(!nmscope::is_active_slurm_state("TIMEOUT"));
  }
};

QTEST_GUILESS_MAIN(TestSlurmScripts)
#include "test_slurm_scripts.moc"
