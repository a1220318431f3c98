#pragma once
// The results database: SQLite, WAL, schema versioned with PRAGMA user_version and migrated forward. One
// transaction per measurement, so a crash or kill loses at most the measurement in flight.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "nmscope/measurement.hpp"
#include "nmscope/model_records.hpp"
#include "nmscope/sweep_shard.hpp"

struct sqlite3;

namespace nmscope {

class ResultsStore {
 public:
  static constexpr int kSchemaVersion = 4;
  // PRAGMA application_id of every nmscope results database: "NMSC" in ASCII. A SQLite file with another id, or
  // with tables but no id, is someone else's and is refused rather than modified.
  static constexpr int32_t kApplicationId = 0x4E4D5343;

  // Opens or creates the database (and its parent directory). Throws Error(path, reason) when it cannot be opened,
  // is not a database, or has a newer schema than this build understands.
  explicit ResultsStore(const std::string& path);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const std::string& path() const { return path_; }

  // Every member may be called from several threads at once (calls on one store are serialized); several stores,
  // in this or other processes, may write the same file at the same time.

  // Inserts one measurement in its own transaction and returns its row id. Fills created_at when empty.
  int64_t insert(const Measurement& measurement);
  // Many measurements in one transaction (all or nothing): for producers that already hold a batch of rows, such as
  // the merge benchmark's shard writer. Fills created_at when empty.
  void insert_all(const std::vector<Measurement>& measurements);
  // One configuration of a model study: its model_evaluations row and its per-layer measurement rows, in one
  // transaction (all or nothing). Fills created_at when empty. Returns the model_evaluations row id.
  int64_t insert_model_evaluation(const ModelEvaluationRecord& record, const std::vector<Measurement>& layers);
  // The rollup of a model study over its linear layers (model_layer_study.hpp), in one transaction. Fills created_at
  // when empty. Its per-layer rows are stored before, as they are measured.
  void insert_model_rollup(const std::vector<ModelRollupRow>& rows);
  // model_rollups rows in insertion order; `study_id` non-empty: only that study's.
  std::vector<ModelRollupRow> model_rollups(const std::string& study_id = {}) const;
  // model_evaluations rows in insertion order; `study_id` non-empty: only that study's.
  std::vector<ModelEvaluationRecord> model_evaluations(const std::string& study_id = {}) const;
  // Records one run of a sweep shard (INSERT OR REPLACE by study_id). Fills created_at when empty.
  void insert_sweep_shard(const SweepShardRecord& record);
  // Every sweep_shards row, in insertion order.
  std::vector<SweepShardRecord> sweep_shards() const;
  // Rows in insertion (id) order.
  std::vector<Measurement> all() const;
  std::vector<Measurement> by_study(const std::string& study_id) const;
  int64_t count() const;
  // The keys of the rows that need no new measurement: status "ok" or "unavailable" ("failed" rows are measured
  // again). `tensor` non-empty: only that tensor's rows (an indexed lookup, cheap before each tensor of a study).
  std::set<MeasurementKey> stored_keys(const std::string& tensor = {}) const;
  // The keys whose only rows are "unavailable" (no ok or overflow row since): a resume measures them again where the
  // engine can now run.
  std::set<MeasurementKey> unavailable_keys(const std::string& tensor = {}) const;

  // Writes every measurement as CSV (RFC 4180, header row, CRLF line ends). Cells a spreadsheet would run as a
  // formula are neutralized. Writes to a temporary file and renames it into place.
  void export_csv(const std::string& csv_path) const;
  // The tables a CSV export can write: measurements (export_csv), model_evaluations, model_rollups and decode (the
  // decode-step rows of measurements: `nmscope-cli decode --db`, reproduce).
  static const std::vector<std::string>& exportable_tables();
  // Writes one of exportable_tables() as CSV, every column of the table in its order; "-" writes to stdout. Returns
  // the rows written. Throws SettingError(Setting::Table, ...) for another name.
  int64_t export_table_csv(const std::string& table, const std::string& csv_path) const;

  // SQLite's quick_check of the whole file: "" when it passes, else its first complaint. It reads every page (about
  // a second per GB), so front ends ask before they write, not on every open.
  std::string integrity_problem() const;

  // The default location: $XDG_DATA_HOME/nmscope/results.db, else ~/.local/share/nmscope/results.db.
  static std::string default_path();

 private:
  std::set<MeasurementKey> keys_where(const std::string& condition, const std::string& tensor) const;
  // One attempt at opening: connection, read-only check, schema check and migration, WAL. Throws Error.
  void open_and_prepare();

  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;  // one connection runs one transaction at a time
};

// Writes the given measurements as CSV, exactly as export_csv() writes the whole database (e.g. a selection).
void write_measurements_csv(const std::string& csv_path, const std::vector<Measurement>& measurements);

// The CSV column names, in order (the same names as the database columns and the CLI's JSON keys): the fields of
// Measurement in declaration order. The database's `id INTEGER PRIMARY KEY` is not among them.
const std::vector<std::string>& measurement_columns();

}  // namespace nmscope
