#include "store/schema.hpp"

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/sqlite_statement.hpp"
#include "store/write_transaction.hpp"

namespace nmscope::store {

namespace {

// The schema that adds sweep_shards. Kept apart from the list's position so that a schema landing before it on
// another branch renumbers it by changing this one constant (and ResultsStore::kSchemaVersion).
constexpr int kSweepsSchemaVersion = 4;

// Version 1: one column per Measurement field, named as the field. Required numbers are NOT NULL except REAL ones:
// SQLite stores a NaN as NULL, and an error figure may legitimately be NaN (0/0 on an all-zero tensor).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE measurements (
  id INTEGER PRIMARY KEY,
  study_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  source TEXT NOT NULL,
  source_hash TEXT NOT NULL,
  tensor TEXT NOT NULL,
  "rows" INTEGER NOT NULL,
  cols INTEGER NOT NULL,
  pattern TEXT NOT NULL,
  kept_per_group INTEGER NOT NULL,
  group_size INTEGER NOT NULL,
  bits INTEGER NOT NULL,
  granularity TEXT NOT NULL,
  quant_group INTEGER NOT NULL,
  symmetric INTEGER NOT NULL CHECK (symmetric IN (0, 1)),
  criterion TEXT NOT NULL,
  engine TEXT NOT NULL,
  batch INTEGER NOT NULL,
  storage_bytes INTEGER NOT NULL,
  compression_vs_fp16 REAL,
  weight_rel_err REAL,
  output_rel_err REAL,
  sqnr_db REAL,
  time_us REAL,
  time_p10_us REAL,
  time_p90_us REAL,
  cycles INTEGER,
  engine_rel_err REAL,
  status TEXT NOT NULL,
  note TEXT NOT NULL,
  details_json TEXT NOT NULL,
  host TEXT NOT NULL,
  build TEXT NOT NULL
);
CREATE INDEX measurements_by_study ON measurements (study_id);
CREATE INDEX measurements_by_tensor_engine ON measurements (tensor, engine);
)sql";

// Version 2: model studies (nmscope-cli model-eval). One row per (model, configuration); the configuration's per-layer
// rows stay in measurements under the same study_id. Figures a family does not have are NULL.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE model_evaluations (
  id INTEGER PRIMARY KEY,
  study_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  model TEXT NOT NULL,
  model_type TEXT NOT NULL,
  family TEXT NOT NULL,
  pattern TEXT NOT NULL,
  bits INTEGER NOT NULL,
  granularity TEXT NOT NULL,
  quant_group INTEGER NOT NULL,
  symmetric INTEGER NOT NULL CHECK (symmetric IN (0, 1)),
  criterion TEXT NOT NULL,
  quantizer TEXT NOT NULL,
  calibration TEXT NOT NULL,
  evaluation TEXT NOT NULL,
  eval_sequences INTEGER NOT NULL,
  eval_tokens INTEGER NOT NULL,
  storage_bytes INTEGER NOT NULL,
  weight_count INTEGER NOT NULL,
  bits_per_weight REAL,
  dense_perplexity REAL,
  perplexity REAL,
  mean_kl REAL,
  top1_agreement REAL,
  mean_cosine REAL,
  seconds REAL,
  note TEXT NOT NULL,
  host TEXT NOT NULL,
  build TEXT NOT NULL
);
CREATE INDEX model_evaluations_by_study ON model_evaluations (study_id);
)sql";

// Version 3: rollups of model studies over every linear layer (nmscope-cli model). One row per (configuration,
// engine, batch, role), role "all" for the whole model; the per-layer rows stay in measurements under the same
// study_id. Times, baselines and speedups that were not measured are NULL.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE model_rollups (
  id INTEGER PRIMARY KEY,
  study_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  model TEXT NOT NULL,
  source TEXT NOT NULL,
  pattern TEXT NOT NULL,
  bits INTEGER NOT NULL,
  granularity TEXT NOT NULL,
  quant_group INTEGER NOT NULL,
  symmetric INTEGER NOT NULL CHECK (symmetric IN (0, 1)),
  criterion TEXT NOT NULL,
  engine TEXT NOT NULL,
  batch INTEGER NOT NULL,
  role TEXT NOT NULL,
  layers INTEGER NOT NULL,
  weight_count INTEGER NOT NULL,
  storage_bytes INTEGER NOT NULL,
  fp16_bytes INTEGER NOT NULL,
  compression_vs_fp16 REAL,
  mean_weight_rel_err REAL,
  max_weight_rel_err REAL,
  mean_output_rel_err REAL,
  max_output_rel_err REAL,
  min_sqnr_db REAL,
  time_us REAL,
  time_per_token_us REAL,
  baseline TEXT NOT NULL,
  baseline_time_per_token_us REAL,
  speedup REAL,
  shapes_timed INTEGER NOT NULL,
  layers_timed INTEGER NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX model_rollups_by_study ON model_rollups (study_id);
)sql";

// Version 4 (kSweepsSchemaVersion), sweeps (nmscope-cli sweep / merge): one row per shard run, naming the spec it ran
// (merge refuses shards of another spec) and where it ran (host, build, Slurm job and array task). Its rows stay in measurements under the same
// study_id. The key index makes merge's "is this measurement already here?" a lookup instead of a scan.
constexpr const char* kSchemaSweeps = R"sql(
CREATE TABLE sweep_shards (
  study_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  points INTEGER NOT NULL,
  host TEXT NOT NULL,
  build TEXT NOT NULL,
  slurm_job_id TEXT NOT NULL,
  slurm_array_task_id TEXT NOT NULL
);
CREATE INDEX measurements_by_key ON measurements (source_hash, tensor, pattern, bits, engine, batch);
)sql";

constexpr Migration kMigrations[] = {
    {0, kSchemaV1},
    {1, kSchemaV2},
    {2, kSchemaV3},
    {kSweepsSchemaVersion - 1, kSchemaSweeps},
};
static_assert(std::size(kMigrations) == ResultsStore::kSchemaVersion,
              "each schema version needs exactly one migration from the version before it");

struct DatabaseState {
  long long application_id = 0;
  int version = 0;
  long long user_tables = 0;
  bool has_measurements = false;
};

std::string not_ours(const std::string& why) { return "not an nmscope results database: " + why; }

DatabaseState inspect(sqlite3* db, const std::string& path) {
  // The first read of the header is where SQLite notices a file that is not a database at all.
  const int probe = exec(db, "SELECT count(*) FROM sqlite_master");
  if ((probe & 0xff) == SQLITE_NOTADB) throw Error(path, not_ours(last_error(db)));
  if (probe != SQLITE_OK) throw_sqlite_error(db, path, "cannot read database");

  DatabaseState state;
  state.application_id = query_integer(db, path, "PRAGMA application_id");
  state.version = static_cast<int>(query_integer(db, path, "PRAGMA user_version"));
  state.user_tables =
      query_integer(db, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  state.has_measurements =
      query_integer(db, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'measurements'") > 0;
  return state;
}

// inspect() in one read transaction: its queries must see one state of the file, not the id and version from before
// another process created the schema and the tables from after it.
DatabaseState inspect_snapshot(sqlite3* db, const std::string& path) {
  if (exec(db, "BEGIN") != SQLITE_OK) throw_sqlite_error(db, path, "cannot read database");
  try {
    const DatabaseState state = inspect(db, path);
    exec(db, "COMMIT");
    return state;
  } catch (...) {
    if (!sqlite3_get_autocommit(db)) exec(db, "ROLLBACK");
    throw;
  }
}

// Throws unless the store may read this database and, if needed, migrate it.
void check_compatible(const DatabaseState& state, const std::string& path, int target_version) {
  const bool ours = state.application_id == ResultsStore::kApplicationId;
  if (state.application_id != 0 && !ours) {
    char id[16];
    std::snprintf(id, sizeof id, "0x%08llx", static_cast<unsigned long long>(state.application_id) & 0xffffffffULL);
    throw Error(path, not_ours(std::string("its application_id is ") + id));
  }
  if (state.version > target_version) {
    throw Error(path, "written by a newer nmscope (schema " + std::to_string(state.version) +
                          ", this build reads up to " + std::to_string(target_version) + ")");
  }
  const bool empty = state.user_tables == 0 && state.version == 0;
  if (empty) return;
  if (!ours) throw Error(path, not_ours("it has tables but no nmscope application_id"));
  if (!state.has_measurements) throw Error(path, not_ours("it has no measurements table"));
}

// A table written by a damaged or hand-edited file must not fail later in every query with a vague message.
void check_columns(sqlite3* db, const std::string& path) {
  std::set<std::string> present;
  Statement table_info(db, path, "PRAGMA table_info(measurements)");
  int result;
  while ((result = table_info.step()) == SQLITE_ROW) {
    present.insert(reinterpret_cast<const char*>(sqlite3_column_text(table_info.get(), 1)));
  }
  if (result != SQLITE_DONE) throw_sqlite_error(db, path, "cannot read the measurements table");
  for (const std::string& column : measurement_columns()) {
    if (!present.count(column)) throw Error(path, not_ours("the measurements table has no column " + column));
  }
}

void write_backup(sqlite3* db, const std::string& path, int version) {
  const std::string target_path = backup_path(path, version);
  sqlite3* target = nullptr;
  if (sqlite3_open_v2(target_path.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string reason = last_error(target);
    sqlite3_close_v2(target);
    throw Error(target_path, "cannot write the pre-migration backup: " + reason);
  }
  sqlite3_backup* backup = sqlite3_backup_init(target, "main", db, "main");
  int result = backup ? SQLITE_OK : sqlite3_errcode(target);
  if (backup) {
    // Another process may be writing the source; the backup API restarts by itself, we only wait out the locks.
    for (int attempt = 0; attempt < 200; ++attempt) {
      result = sqlite3_backup_step(backup, -1);
      if (!is_busy(result)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    sqlite3_backup_finish(backup);
  }
  const std::string reason = last_error(target);
  sqlite3_close_v2(target);
  if (result != SQLITE_DONE) throw Error(target_path, "cannot write the pre-migration backup: " + reason);
}

}  // namespace

std::span<const Migration> schema_migrations() { return kMigrations; }

std::string backup_path(const std::string& path, int version) {
  return path + ".v" + std::to_string(version) + ".bak";
}

void prepare_schema(sqlite3* db, const std::string& path, std::span<const Migration> migrations) {
  const int target_version = static_cast<int>(migrations.size());
  DatabaseState state = inspect_snapshot(db, path);
  check_compatible(state, path, target_version);

  if (state.version < target_version) {
    // A damaged or hand-edited older file is refused before the backup and the migration touch it. Every schema so far
    // has all of measurement_columns(); a migration that adds measurement columns must check the older set here.
    if (state.version > 0) check_columns(db, path);
    // Nothing to protect in a database without a schema; an older nmscope database is copied first so a failed or
    // regretted migration can be undone by hand.
    if (state.version > 0) write_backup(db, path, state.version);

    const std::string context = "cannot migrate to schema " + std::to_string(target_version);
    run_write_transaction(db, path, context, [&] {
      // Another process may have migrated (or created) the database while this one waited for the lock.
      state = inspect(db, path);
      check_compatible(state, path, target_version);
      for (const Migration& migration : migrations.subspan(state.version)) {
        const int result = exec(db, migration.sql);
        if (result != SQLITE_OK) return result;
      }
      const std::string stamp = "PRAGMA user_version = " + std::to_string(target_version) +
                                "; PRAGMA application_id = " + std::to_string(ResultsStore::kApplicationId) + ";";
      return exec(db, stamp.c_str());
    });
  }
  check_columns(db, path);
}

}  // namespace nmscope::store
