// Forward migrations and the pre-migration backup. The machinery is driven with this build's list plus a synthetic
// next step (N -> N + 1, N = this build's version), exactly as a future release would extend it; and the real step
// from schema 1 (measurements only) to schema 2 (model studies) is run on a genuine schema-1 database.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/schema.hpp"
#include "store_test_support.hpp"

using nmscope::Error;
using nmscope::ResultsStore;
using nmscope::store::Migration;
using store_test::RawDatabase;

namespace {

constexpr int kCurrent = ResultsStore::kSchemaVersion;
constexpr int kNext = kCurrent + 1;

std::vector<Migration> with_step_to_v2(const char* sql) {
  std::vector<Migration> list(nmscope::store::schema_migrations().begin(), nmscope::store::schema_migrations().end());
  list.push_back({kCurrent, sql});
  return list;
}

constexpr const char* kAddEnergy =
    "ALTER TABLE measurements ADD COLUMN energy_j REAL; CREATE TABLE study_notes (study_id TEXT, note TEXT);";

std::string make_v1_database(const QTemporaryDir& dir, int rows) {
  const std::string path = dir.filePath("results.db").toStdString();
  ResultsStore store(path);
  for (int i = 0; i < rows; ++i) store.insert(store_test::sample_measurement(i));
  return path;
}

bool has_column(RawDatabase& raw, const std::string& column) {
  return raw.integer("SELECT count(*) FROM pragma_table_info('measurements') WHERE name = '" + column + "'") == 1;
}

}  // namespace

class TestSchemaMigration final : public QObject {
  Q_OBJECT

 private slots:
  void buildListIsContiguous() {
    const auto list = nmscope::store::schema_migrations();
    QCOMPARE(static_cast<int>(list.size()), ResultsStore::kSchemaVersion);
    for (std::size_t i = 0; i < list.size(); ++i) QCOMPARE(list[i].from_version, static_cast<int>(i));
  }

  void migratesOlderDatabaseAndKeepsBackup() {
    QTemporaryDir dir;
    const std::string path = make_v1_database(dir, 3);
    const auto migrations = with_step_to_v2(kAddEnergy);
    {
      RawDatabase raw(path);
      nmscope::store::prepare_schema(raw.handle(), path, migrations);
      QCOMPARE(raw.integer("PRAGMA user_version"), kNext);
      QCOMPARE(raw.integer("PRAGMA application_id"), ResultsStore::kApplicationId);
      QVERIFY(has_column(raw, "energy_j"));
      QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 3);
      QCOMPARE(raw.integer("SELECT count(*) FROM study_notes"), 0);
      QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    }

    const std::string backup = nmscope::store::backup_path(path, kCurrent);
    QCOMPARE(backup, path + ".v" + std::to_string(kCurrent) + ".bak");
    QVERIFY(QFile::exists(QString::fromStdString(backup)));
    RawDatabase old(backup);
    QCOMPARE(old.integer("PRAGMA user_version"), kCurrent);
    QCOMPARE(old.integer("SELECT count(*) FROM measurements"), 3);
    QVERIFY(!has_column(old, "energy_j"));
    QCOMPARE(old.text("PRAGMA integrity_check"), std::string("ok"));

    // Migrating again is a no-op: the database is current.
    RawDatabase raw(path);
    nmscope::store::prepare_schema(raw.handle(), path, migrations);
    QCOMPARE(raw.integer("PRAGMA user_version"), kNext);

    // And this build, which reads up to schema N, now refuses it.
    try {
      ResultsStore store(path);
      QFAIL("a newer database must be refused");
    } catch (const Error& error) {
      QCOMPARE(error.reason(), "written by a newer nmscope (schema " + std::to_string(kNext) +
                                   ", this build reads up to " + std::to_string(kCurrent) + ")");
    }
  }

  void failedMigrationLeavesDatabaseAsItWas() {
    QTemporaryDir dir;
    const std::string path = make_v1_database(dir, 2);
    const auto migrations = with_step_to_v2("ALTER TABLE measurements ADD COLUMN energy_j REAL; NOT VALID SQL;");
    RawDatabase raw(path);
    try {
      nmscope::store::prepare_schema(raw.handle(), path, migrations);
      QFAIL("the broken migration should have failed");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), path);
      QVERIFY2(QString::fromStdString(error.reason()).startsWith(QString("cannot migrate to schema %1: ").arg(kNext)), error.what());
    }
    // The first statement of the step ran, but the whole migration is one transaction.
    QCOMPARE(raw.integer("PRAGMA user_version"), kCurrent);
    QVERIFY(!has_column(raw, "energy_j"));
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 2);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    QVERIFY(QFile::exists(QString::fromStdString(nmscope::store::backup_path(path, kCurrent))));
    // Still a valid database for this build.
    QCOMPARE(ResultsStore(path).count(), 2);
  }

  void migratesSchema1ToModelStudies() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("v1.db").toStdString();
    {
      RawDatabase raw(path);
      nmscope::store::prepare_schema(raw.handle(), path, nmscope::store::schema_migrations().first(1));
      raw.exec("INSERT INTO measurements (study_id, created_at, source, source_hash, tensor, \"rows\", cols, pattern, "
               "kept_per_group, group_size, bits, granularity, quant_group, symmetric, criterion, engine, batch, "
               "storage_bytes, status, note, details_json, host, build) VALUES ('s', 't', 'src', 'h', 'w', 4, 8, "
               "'2:4', 2, 4, 4, 'group:128', 128, 1, 'magnitude', 'none', 0, 10, 'ok', '', '{}', 'host', 'build')");
      QCOMPARE(raw.integer("PRAGMA user_version"), 1);
    }
    {
      ResultsStore store(path);
      QCOMPARE(store.count(), 1);
      QVERIFY(store.model_evaluations().empty());
      nmscope::ModelEvaluationRecord record;
      record.study_id = "m";
      record.model = "dir";
      record.mean_cosine = 0.5;
      store.insert_model_evaluation(record, {store_test::sample_measurement(0)});
      QCOMPARE(store.model_evaluations("m").size(), std::size_t{1});
      QCOMPARE(store.count(), 2);
    }
    RawDatabase raw(path);
    QCOMPARE(raw.integer("PRAGMA user_version"), kCurrent);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    RawDatabase old(nmscope::store::backup_path(path, 1));
    QCOMPARE(old.integer("PRAGMA user_version"), 1);
    QCOMPARE(old.integer("SELECT count(*) FROM measurements"), 1);
  }

  // Schema 3 adds model_rollups (nmscope-cli model); a schema-2 file keeps its rows and model evaluations, gains the
  // table, and is backed up first.
  void migratesSchema2ToModelRollups() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("v2.db").toStdString();
    {
      RawDatabase raw(path);
      nmscope::store::prepare_schema(raw.handle(), path, nmscope::store::schema_migrations().first(2));
      raw.exec("INSERT INTO measurements (study_id, created_at, source, source_hash, tensor, \"rows\", cols, pattern, "
               "kept_per_group, group_size, bits, granularity, quant_group, symmetric, criterion, engine, batch, "
               "storage_bytes, status, note, details_json, host, build) VALUES ('s', 't', 'src', 'h', 'w', 4, 8, "
               "'2:4', 2, 4, 4, 'group:128', 128, 1, 'magnitude', 'none', 0, 10, 'ok', '', '{}', 'host', 'build')");
      QCOMPARE(raw.integer("PRAGMA user_version"), 2);
      QCOMPARE(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'model_rollups'"), 0);
    }
    {
      ResultsStore store(path);
      QCOMPARE(store.count(), 1);
      QVERIFY(store.model_rollups().empty());
      nmscope::ModelRollupRow row;
      row.study_id = "m";
      row.model = "llama-7b";
      row.role = "all";
      row.storage_bytes = 123;
      row.speedup = 1.5;  // time_us stays NaN: stored as NULL, read back as NaN
      store.insert_model_rollup({row});
      const auto rows = store.model_rollups("m");
      QCOMPARE(rows.size(), std::size_t{1});
      QCOMPARE(rows[0].storage_bytes, int64_t{123});
      QCOMPARE(rows[0].speedup, 1.5);
      QVERIFY(std::isnan(rows[0].time_us));
      QVERIFY(!rows[0].created_at.empty());
    }
    RawDatabase raw(path);
    QCOMPARE(raw.integer("PRAGMA user_version"), kCurrent);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(raw.text("SELECT typeof(time_us) FROM model_rollups"), std::string("null"));
    RawDatabase old(nmscope::store::backup_path(path, 2));
    QCOMPARE(old.integer("PRAGMA user_version"), 2);
    QCOMPARE(old.integer("SELECT count(*) FROM measurements"), 1);
  }

  // The sweeps schema (after model_rollups) adds sweep_shards and the measurement-key index merge looks rows up by.
  void migratesSchema3ToSweeps() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("v3.db").toStdString();
    {
      RawDatabase raw(path);
      nmscope::store::prepare_schema(raw.handle(), path, nmscope::store::schema_migrations().first(3));
      raw.exec("INSERT INTO measurements (study_id, created_at, source, source_hash, tensor, \"rows\", cols, pattern, "
               "kept_per_group, group_size, bits, granularity, quant_group, symmetric, criterion, engine, batch, "
               "storage_bytes, status, note, details_json, host, build) VALUES ('s', 't', 'src', 'h', 'w', 4, 8, "
               "'2:4', 2, 4, 4, 'group:128', 128, 1, 'magnitude', 'none', 0, 10, 'ok', '', '{}', 'host', 'build')");
      QCOMPARE(raw.integer("PRAGMA user_version"), 3);
    }
    {
      ResultsStore store(path);
      QCOMPARE(store.count(), 1);
      QVERIFY(store.sweep_shards().empty());
      nmscope::SweepShardRecord record;
      record.study_id = "s";
      record.spec_hash = "abc";
      record.shard_index = 2;
      record.shard_count = 4;
      record.slurm_job_id = "17";
      store.insert_sweep_shard(record);
      const auto records = store.sweep_shards();
      QCOMPARE(records.size(), std::size_t{1});
      QCOMPARE(records[0].shard_index, 2);
      QCOMPARE(records[0].slurm_job_id, std::string("17"));
      QVERIFY(!records[0].created_at.empty());
    }
    RawDatabase raw(path);
    QCOMPARE(raw.integer("PRAGMA user_version"), kCurrent);
    QCOMPARE(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'measurements_by_key'"), 1);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    RawDatabase old(nmscope::store::backup_path(path, 3));
    QCOMPARE(old.integer("PRAGMA user_version"), 3);
    QCOMPARE(old.integer("SELECT count(*) FROM measurements"), 1);
  }

  void emptyDatabaseRunsEveryStepWithoutBackup() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("fresh.db").toStdString();
    RawDatabase raw(path);
    nmscope::store::prepare_schema(raw.handle(), path, with_step_to_v2(kAddEnergy));
    QCOMPARE(raw.integer("PRAGMA user_version"), kNext);
    QVERIFY(has_column(raw, "energy_j"));
    QVERIFY(has_column(raw, "study_id"));
    QVERIFY(QDir(dir.path()).entryList({"*.bak"}, QDir::Files).isEmpty());
  }
};

QTEST_APPLESS_MAIN(TestSchemaMigration)
#include "test_schema_migration.moc"
