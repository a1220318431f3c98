// nmscope-cli sweep and merge as a user (or a Slurm array) runs them: four shards merged hold exactly the unsharded
// sweep, once each; merging again adds nothing; --plan; and the exit status and one-line message of every refusal
// (bad spec: 1, bad --shard: 2, newer schema, another spec, conflicts and a truncated shard: 1).
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_process.hpp"
#include "nmscope/results_store.hpp"
#include "sweep_test_support.hpp"

using nmscope::test::CliResult;
using nmscope::test::expect_one_line_error;
using nmscope::test::run_cli;
using sweep_test::RawDatabase;

class TestSweepCli : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString spec_;
  QStringList shards_;

  QString path(const QString& name) const { return dir_.filePath(name); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    spec_ = path("sweep.json");
    sweep_test::write_file(spec_, sweep_test::small_spec());
    for (int shard = 0; shard < 4; ++shard) {
      shards_ << path(QString("shard-%1.db").arg(shard));
      const CliResult result =
          run_cli({"sweep", "--spec", spec_, "--shard", QString("%1/4").arg(shard), "--db", shards_.back()});
      QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    }
  }

  void planPrintsEveryShard() {
    const CliResult result = run_cli({"sweep", "--spec", spec_, "--shard", "1/4", "--plan"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("32 points in 4 shards"), qPrintable(result.out));
    QVERIFY(result.out.contains("3/4"));
    QVERIFY(!QFile::exists(path("shard-1.db-plan")));
  }

  void planAsJson() {
    const CliResult result = run_cli({"sweep", "--spec", spec_, "--shard", "1/4", "--plan", "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const QJsonObject plan = QJsonDocument::fromJson(result.out.toUtf8()).object();
    QCOMPARE(plan["points"].toInt(), 32);
    QCOMPARE(plan["shard_count"].toInt(), 4);
    const QJsonArray shards = plan["shards"].toArray();
    QCOMPARE(shards.size(), 4);
    int points = 0;
    for (const auto& shard : shards) points += shard.toObject()["points"].toInt();
    QCOMPARE(points, 32);
  }

  void shardResumes() {
    const CliResult result = run_cli({"sweep", "--spec", spec_, "--shard", "2/4", "--db", shards_[2]});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.err.contains(" 0 measured"), qPrintable(result.err));
  }

  void mergedShardsEqualTheUnshardedSweep() {
    const QString once = path("once.db");
    const CliResult unsharded = run_cli({"sweep", "--spec", spec_, "--db", once});
    QVERIFY2(unsharded.exit_code == 0, qPrintable(unsharded.describe()));

    const QString merged = path("merged.db");
    const CliResult result = run_cli(QStringList{"merge", "--out", merged} + shards_);
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("32 added, 0 duplicates, 0 conflicts"), qPrintable(result.out));
    const auto keys = RawDatabase(merged.toStdString()).keys();
    QCOMPARE(keys, RawDatabase(once.toStdString()).keys());
    QCOMPARE(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());

    const CliResult again = run_cli(QStringList{"merge", "--out", merged} + shards_);
    QVERIFY2(again.exit_code == 0, qPrintable(again.describe()));
    QVERIFY2(again.out.contains("0 added, 32 duplicates, 0 conflicts"), qPrintable(again.out));

    // The unsharded run timed the CPU rows again: same keys, other figures. Reported, exit 1, nothing replaced.
    const CliResult conflicting = run_cli({"merge", "--out", merged, once});
    QVERIFY2(conflicting.exit_code == 1, qPrintable(conflicting.describe()));
    QVERIFY2(conflicting.err.contains("conflict"), qPrintable(conflicting.err));
    QCOMPARE(RawDatabase(merged.toStdString()).integer("SELECT count(*) FROM measurements"),
             sweep_test::kSmallSpecPoints);
  }

  void remeasuredFpgaRowsMergeAsDuplicates() {
    // The same FPGA study run twice, the RTL simulated both times at whatever speed the host gave it: merging the
    // two is 0 conflicts (it was exit 1 with every simulated row a conflict).
    QStringList run = {"run",
                       "--weights",
                       "synth:tiny-block",
                       "--tensor",
                       "block.mlp.up_proj.weight",
                       "--pattern",
                       "dense,2:4",
                       "--bits",
                       "4",
                       "--engines",
                       "fpga",
                       "--array",
                       "8x8"};
    for (const QString name : {"fpga-1.db", "fpga-2.db"}) {
      const CliResult result = run_cli(run + QStringList{"--db", path(name)});
      QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    }
    QVERIFY(RawDatabase(path("fpga-1.db").toStdString())
                .integer("SELECT count(*) FROM measurements WHERE details_json LIKE '%simulated_cycles_per_second%'") >
            0);
    const CliResult merged =
        run_cli({"merge", "--force", "--out", path("fpga-merged.db"), path("fpga-1.db"), path("fpga-2.db")});
    QVERIFY2(merged.exit_code == 0, qPrintable(merged.describe()));
    QVERIFY2(merged.out.contains(" 0 conflicts"), qPrintable(merged.out));
  }

  void truncatedShardIsNamedForResubmission() {
    const QString broken = path("shard-3-killed.db");
    QVERIFY(QFile::copy(shards_[3], broken));
    QFile file(broken);
    QVERIFY(file.resize(file.size() / 2));
    const CliResult result =
        run_cli({"merge", "--out", path("partial.db"), shards_[0], shards_[1], shards_[2], broken});
    QVERIFY2(result.exit_code == 1, qPrintable(result.describe()));
    QCOMPARE(result.err_lines().size(), 1);
    QVERIFY2(result.err.contains(broken) && result.err.contains("resubmit"), qPrintable(result.err));
    QVERIFY(result.out.contains("BROKEN"));
    QCOMPARE(RawDatabase(path("partial.db").toStdString()).integer("SELECT count(*) FROM measurements"),
             sweep_test::kSmallSpecPoints -
                 RawDatabase(shards_[3].toStdString()).integer("SELECT count(*) FROM measurements"));
  }

  void newerSchemaIsRefused() {
    const QString newer = path("newer.db");
    QVERIFY(QFile::copy(shards_[0], newer));
    RawDatabase(newer.toStdString())
        .exec("PRAGMA user_version = " + std::to_string(nmscope::ResultsStore::kSchemaVersion + 1));
    expect_one_line_error(run_cli({"merge", "--out", path("never.db"), newer}), 1,
                          newer + ": written by a newer nmscope");
    QVERIFY(!QFile::exists(path("never.db")));
  }

  void shardsOfAnotherSpecAreRefusedUnlessForced() {
    const QString other_spec = path("other.json");
    sweep_test::write_file(other_spec, sweep_test::small_spec("9"));
    const QString other = path("other-0.db");
    QCOMPARE(run_cli({"sweep", "--spec", other_spec, "--shard", "0/16", "--db", other}).exit_code, 0);
    expect_one_line_error(run_cli({"merge", "--out", path("mixed.db"), shards_[0], other}), 1,
                          other + ": from another sweep spec");
    QVERIFY(!QFile::exists(path("mixed.db")));
    const CliResult forced = run_cli({"merge", "--out", path("mixed.db"), shards_[0], other, "--force"});
    QVERIFY2(forced.exit_code == 0, qPrintable(forced.describe()));
  }

  void badSpecsAndShardsAreRefused() {
    const QString typo = path("typo.json");
    sweep_test::write_file(typo, R"({"sources": ["synth:8x16"], "engine": ["cpu"]})");
    expect_one_line_error(run_cli({"sweep", "--spec", typo, "--plan"}), 1, typo + ": \"engine\": unknown key");
    const QString bad_engine = path("bad-engine.json");
    sweep_test::write_file(bad_engine, R"({"sources": ["synth:8x16"], "engines": ["fpga/systolic-99x99"]})");
    expect_one_line_error(run_cli({"sweep", "--spec", bad_engine, "--plan"}), 1, "fpga/systolic-99x99");
    expect_one_line_error(run_cli({"sweep", "--spec", path("missing.json"), "--plan"}), 1, "missing.json");
    expect_one_line_error(run_cli({"sweep", "--spec", spec_, "--shard", "4/4", "--plan"}), 2, "--shard");
    expect_one_line_error(run_cli({"sweep", "--spec", spec_, "--shard", "0/33", "--plan"}), 2,
                          "more shards than the sweep has points (32)");
    expect_one_line_error(run_cli({"sweep", "--spec", spec_, "--shard", "0/4"}), 2, "--db");
  }
};

QTEST_GUILESS_MAIN(TestSweepCli)
#include "test_sweep_cli.moc"
