// How much of its shard a shard database holds (what `slurm status` shows and `slurm resubmit` acts on): complete
// after the shard ran, partial when rows are missing or failed, nothing when the file is missing or empty, and
// broken (so resubmitted afresh) when it is truncated or not ours.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "nmscope/results_store.hpp"
#include "nmscope/sweep.hpp"
#include "nmscope/sweep_progress.hpp"
#include "sweep_test_support.hpp"

using sweep_test::RawDatabase;

class TestSweepProgress : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  nmscope::SweepSpec spec_;
  nmscope::SweepPlan plan_;
  nmscope::ShardAssignment assignment_;
  std::string shard_;

  std::string path(const QString& name) const { return dir_.filePath(name).toStdString(); }
  nmscope::ShardDatabaseState inspect(const std::string& database, int shard = 1) const {
    return nmscope::inspect_shard_database(spec_, plan_, assignment_, shard, database);
  }
  std::string copy_of_shard(const QString& name) const {
    const std::string copy = path(name);
    QFile::copy(QString::fromStdString(shard_), QString::fromStdString(copy));
    return copy;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    spec_ = nmscope::parse_sweep_spec(sweep_test::small_spec(), "sweep.json");
    plan_ = nmscope::plan_sweep(spec_, nmscope::list_sweep_tensors(spec_));
    assignment_ = nmscope::assign_shards(plan_.costs, 4);
    shard_ = path("shard-1.db");
    nmscope::ResultsStore store(shard_);
    nmscope::run_sweep_shard(spec_, plan_, {1, 4}, store, {});
  }

  void completeAfterTheShardRan() {
    const auto state = inspect(shard_);
    QVERIFY(state.exists);
    QVERIFY(state.broken.empty());
    QCOMPARE(state.planned, assignment_.points_per_shard[1]);
    QCOMPARE(state.present, state.planned);
    QVERIFY(state.complete());
    QCOMPARE(state.describe(), std::string("complete"));
    // Another shard's plan is not this database's: none of its points are here.
    QCOMPARE(inspect(shard_, 2).present, int64_t{0});
  }

  void missingAndFailedRowsArePartial() {
    const std::string copy = copy_of_shard("partial.db");
    RawDatabase(copy).exec("DELETE FROM measurements WHERE id IN (SELECT id FROM measurements LIMIT 2)");
    RawDatabase(copy).exec("UPDATE measurements SET status = 'failed' WHERE id = (SELECT max(id) FROM measurements)");
    const auto state = inspect(copy);
    QCOMPARE(state.present, state.planned - 3);
    QCOMPARE(state.rows, state.planned - 2);
    QVERIFY(!state.complete());
    QCOMPARE(state.describe(), std::string("partial"));
  }

  void missingOrEmptyHoldsNothing() {
    const auto missing = inspect(path("never-written.db"));
    QVERIFY(!missing.exists);
    QCOMPARE(missing.describe(), std::string("no database"));
    const std::string empty = path("empty.db");
    QFile(QString::fromStdString(empty)).open(QIODevice::WriteOnly);
    const auto state = inspect(empty);
    QVERIFY(state.exists && state.broken.empty());
    QCOMPARE(state.present, int64_t{0});
  }

  void truncatedOrForeignIsBroken() {
    const std::string truncated = copy_of_shard("truncated.db");
    QFile file(QString::fromStdString(truncated));
    QVERIFY(file.resize(file.size() / 2));
    auto state = inspect(truncated);
    QVERIFY2(!state.broken.empty(), state.describe().c_str());
    QVERIFY(!state.complete());
    QCOMPARE(state.present, int64_t{0});

    const std::string garbage = path("garbage.db");
    sweep_test::write_file(QString::fromStdString(garbage), std::string(8192, 'x'));
    state = inspect(garbage);
    QVERIFY2(!state.broken.empty(), state.describe().c_str());

    const std::string foreign = path("foreign.db");
    RawDatabase(foreign).exec("CREATE TABLE t (x)");
    state = inspect(foreign);
    QCOMPARE(state.broken, std::string("not an nmscope results database"));
  }
};

QTEST_GUILESS_MAIN(TestSweepProgress)
#include "test_sweep_progress.moc"
