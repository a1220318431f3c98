#include "nmscope/results_store.hpp"

#include <pwd.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <type_traits>

#include "nmscope/error.hpp"
#include "nmscope/host_info.hpp"
#include "store/csv_writer.hpp"
#include "nmscope/measurement_fields.hpp"
#include "store/measurement_row.hpp"
#include "store/model_evaluation_row.hpp"
#include "store/model_rollup_row.hpp"
#include "store/schema.hpp"
#include "store/sqlite_statement.hpp"
#include "store/write_transaction.hpp"

namespace nmscope {

namespace {

// Long enough for another process to finish a large migration or a checkpoint; each insert holds the lock ~1 ms.
constexpr int kBusyTimeoutMs = 10000;
constexpr int kOpenAttempts = 20;

// Failures that several processes opening one new database at the same moment cause each other while one of them
// turns the fresh file's rollback journal into a write-ahead log: a lock, or a journal file that another process
// deleted or replaced under it. Opening again sees the database as the winner left it.
bool is_transient_open_failure(int extended_code) {
  return store::is_busy(extended_code) || extended_code == SQLITE_IOERR_DELETE_NOENT ||
         extended_code == SQLITE_READONLY_DBMOVED || extended_code == SQLITE_READONLY_RECOVERY ||
         extended_code == SQLITE_READONLY_CANTINIT || extended_code == SQLITE_READONLY_CANTLOCK;
}

void create_parent_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) throw Error(path, "cannot create directory " + parent.string() + ": " + error.message());
}

void use_write_ahead_log(sqlite3* db, const std::string& path) {
  // WAL lets readers (the GUI) and writers (study runs in other processes) proceed together; NORMAL sync in WAL
  // mode keeps every committed row across a crash of the process, and at worst loses the last commits on power
  // loss, never corrupting the file. Changing the journal mode needs a moment of exclusive access, so it is
  // retried while another connection is busy with the file.
  for (int attempt = 0;; ++attempt) {
    const int result = store::exec(db, "PRAGMA journal_mode = WAL");
    if (result == SQLITE_OK) break;
    if (!store::is_busy(result) || attempt == 20) store::throw_sqlite_error(db, path, "cannot enable WAL mode");
  }
  if (store::exec(db, "PRAGMA synchronous = NORMAL") != SQLITE_OK) {
    store::throw_sqlite_error(db, path, "cannot set synchronous mode");
  }
}

std::vector<Measurement> read_rows(sqlite3* db, const std::string& path, store::Statement& query) {
  std::vector<Measurement> rows;
  int result;
  while ((result = query.step()) == SQLITE_ROW) rows.push_back(store::read_measurement(query.get()));
  if (result != SQLITE_DONE) store::throw_sqlite_error(db, path, "cannot read measurements");
  return rows;
}

}  // namespace

ResultsStore::ResultsStore(const std::string& path) : path_(path) {
  create_parent_directory(path_);
  for (int attempt = 1;; ++attempt) {
    try {
      open_and_prepare();
      return;
    } catch (const Error&) {
      const int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_OK;
      sqlite3_close_v2(db_);
      db_ = nullptr;
      if (attempt == kOpenAttempts || !is_transient_open_failure(code)) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    }
  }
}

void ResultsStore::open_and_prepare() {
  // FULLMUTEX: the store's own mutex orders transactions, SQLite's keeps its internals safe for the rest.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string reason = store::last_error(db_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(path_, "cannot open: " + reason);
  }
  // SQLite falls back to read-only when the file or its file system refuses writes; a store that cannot store
  // must say so now, not after the first measurement has been made.
  if (sqlite3_db_readonly(db_, "main") == 1)
    throw Error(path_, "read-only: the file or its file system does not allow writing");
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 1);
  // The schema check comes first: a foreign or newer file must be refused before any pragma writes to it.
  store::prepare_schema(db_, path_, store::schema_migrations());
  use_write_ahead_log(db_, path_);
}

ResultsStore::~ResultsStore() { sqlite3_close_v2(db_); }

int64_t ResultsStore::insert(const Measurement& measurement) {
  std::lock_guard lock(mutex_);
  Measurement row = measurement;
  if (row.created_at.empty()) row.created_at = utc_timestamp();

  store::Statement statement(db_, path_, store::insert_sql());
  int64_t id = 0;
  store::run_write_transaction(db_, path_, "cannot store measurement", [&] {
    statement.reset();  // a retried attempt starts from a fresh statement state
    int result = store::bind_measurement(statement.get(), row);
    if (result != SQLITE_OK) return result;
    result = statement.step();
    if (result != SQLITE_DONE) return result;
    id = sqlite3_last_insert_rowid(db_);
    return SQLITE_OK;
  });
  return id;
}

void ResultsStore::insert_all(const std::vector<Measurement>& measurements) {
  std::lock_guard lock(mutex_);
  const std::string now = utc_timestamp();
  store::Statement statement(db_, path_, store::insert_sql());
  store::run_write_transaction(db_, path_, "cannot store measurements", [&] {
    for (const Measurement& measurement : measurements) {
      statement.reset();
      Measurement row = measurement;
      if (row.created_at.empty()) row.created_at = now;
      int result = store::bind_measurement(statement.get(), row);
      if (result != SQLITE_OK) return result;
      if ((result = statement.step()) != SQLITE_DONE) return result;
    }
    return SQLITE_OK;
  });
}

int64_t ResultsStore::insert_model_evaluation(const ModelEvaluationRecord& record,
                                              const std::vector<Measurement>& layers) {
  std::lock_guard lock(mutex_);
  ModelEvaluationRecord row = record;
  if (row.created_at.empty()) row.created_at = utc_timestamp();
  std::vector<Measurement> layer_rows = layers;
  for (auto& layer : layer_rows)
    if (layer.created_at.empty()) layer.created_at = row.created_at;

  store::Statement evaluation(db_, path_, store::model_evaluation_insert_sql());
  store::Statement measurement(db_, path_, store::insert_sql());
  int64_t id = 0;
  store::run_write_transaction(db_, path_, "cannot store model evaluation", [&] {
    evaluation.reset();
    int result = store::bind_model_evaluation(evaluation.get(), row);
    if (result != SQLITE_OK) return result;
    if ((result = evaluation.step()) != SQLITE_DONE) return result;
    id = sqlite3_last_insert_rowid(db_);
    for (const auto& layer : layer_rows) {
      measurement.reset();
      if ((result = store::bind_measurement(measurement.get(), layer)) != SQLITE_OK) return result;
      if ((result = measurement.step()) != SQLITE_DONE) return result;
    }
    return SQLITE_OK;
  });
  return id;
}

void ResultsStore::insert_model_rollup(const std::vector<ModelRollupRow>& rows) {
  std::lock_guard lock(mutex_);
  const std::string now = utc_timestamp();
  store::Statement statement(db_, path_, store::model_rollup_insert_sql());
  store::run_write_transaction(db_, path_, "cannot store model rollup", [&] {
    for (const ModelRollupRow& row : rows) {
      ModelRollupRow stamped = row;
      if (stamped.created_at.empty()) stamped.created_at = now;
      statement.reset();
      int result = store::bind_model_rollup(statement.get(), stamped);
      if (result != SQLITE_OK) return result;
      if ((result = statement.step()) != SQLITE_DONE) return result;
    }
    return SQLITE_OK;
  });
}

std::vector<ModelRollupRow> ResultsStore::model_rollups(const std::string& study_id) const {
  std::lock_guard lock(mutex_);
  store::Statement query(db_, path_,
                         store::model_rollup_select_sql() + (study_id.empty() ? "" : " WHERE study_id = ?") +
                             " ORDER BY id");
  if (!study_id.empty())
    sqlite3_bind_text(query.get(), 1, study_id.data(), static_cast<int>(study_id.size()), SQLITE_TRANSIENT);
  std::vector<ModelRollupRow> rows;
  int result;
  while ((result = query.step()) == SQLITE_ROW) rows.push_back(store::read_model_rollup(query.get()));
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read model rollups");
  return rows;
}

std::vector<ModelEvaluationRecord> ResultsStore::model_evaluations(const std::string& study_id) const {
  std::lock_guard lock(mutex_);
  store::Statement query(db_, path_,
                         store::model_evaluation_select_sql() + (study_id.empty() ? "" : " WHERE study_id = ?") +
                             " ORDER BY id");
  if (!study_id.empty())
    sqlite3_bind_text(query.get(), 1, study_id.data(), static_cast<int>(study_id.size()), SQLITE_TRANSIENT);
  std::vector<ModelEvaluationRecord> rows;
  int result;
  while ((result = query.step()) == SQLITE_ROW) rows.push_back(store::read_model_evaluation(query.get()));
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read model evaluations");
  return rows;
}

std::vector<Measurement> ResultsStore::all() const {
  std::lock_guard lock(mutex_);
  store::Statement query(db_, path_, store::select_sql() + " ORDER BY id");
  return read_rows(db_, path_, query);
}

std::vector<Measurement> ResultsStore::by_study(const std::string& study_id) const {
  std::lock_guard lock(mutex_);
  store::Statement query(db_, path_, store::select_sql() + " WHERE study_id = ? ORDER BY id");
  sqlite3_bind_text(query.get(), 1, study_id.data(), static_cast<int>(study_id.size()), SQLITE_TRANSIENT);
  return read_rows(db_, path_, query);
}

int64_t ResultsStore::count() const {
  std::lock_guard lock(mutex_);
  return store::query_integer(db_, path_, "SELECT count(*) FROM measurements");
}

std::set<MeasurementKey> ResultsStore::stored_keys(const std::string& tensor) const {
  return keys_where("status IN ('ok', 'unavailable', 'overflow')", tensor);
}

std::set<MeasurementKey> ResultsStore::unavailable_keys(const std::string& tensor) const {
  constexpr const char* kKey =
      "source, source_hash, tensor, pattern, bits, granularity, symmetric, criterion, engine, batch";
  return keys_where("status = 'unavailable' AND (" + std::string(kKey) + ") NOT IN (SELECT " + kKey +
                        " FROM measurements WHERE status IN ('ok', 'overflow'))",
                    tensor);
}

std::set<MeasurementKey> ResultsStore::keys_where(const std::string& condition, const std::string& tensor) const {
  std::lock_guard lock(mutex_);
  std::string sql =
      "SELECT source, source_hash, tensor, kept_per_group, group_size, bits, granularity, symmetric, criterion, "
      "engine, "
      "batch "
      "FROM measurements WHERE " +
      condition;
  if (!tensor.empty()) sql += " AND tensor = ?";
  store::Statement query(db_, path_, sql);
  if (!tensor.empty()) sqlite3_bind_text(query.get(), 1, tensor.data(), static_cast<int>(tensor.size()), SQLITE_TRANSIENT);
  auto text = [&](int column) {
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(query.get(), column));
    return std::string(value ? value : "", static_cast<size_t>(sqlite3_column_bytes(query.get(), column)));
  };
  std::set<MeasurementKey> keys;
  int result;
  while ((result = query.step()) == SQLITE_ROW) {
    auto number = [&](int column) { return sqlite3_column_int(query.get(), column); };
    Measurement row;  // the key's configuration, read as every row's is (ConfigurationColumns)
    ConfigurationColumns columns;
    columns.kept_per_group = number(3);
    columns.group_size = number(4);
    columns.bits = number(5);
    columns.granularity = text(6);
    columns.symmetric = number(7) != 0;
    columns.apply_to(row);
    keys.insert({text(0), text(1), text(2), row.pattern, row.quant.canonical(), text(8), text(9), number(10)});
  }
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read measurements");
  return keys;
}

void ResultsStore::export_csv(const std::string& csv_path) const {
  std::lock_guard lock(mutex_);
  store::CsvWriter csv(csv_path);
  store::write_csv_header(csv);
  // One read transaction for the whole export, so rows committed meanwhile by other writers do not tear it.
  store::Statement query(db_, path_, store::select_sql() + " ORDER BY id");
  int result;
  while ((result = query.step()) == SQLITE_ROW) store::write_csv_row(csv, store::read_measurement(query.get()));
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read measurements");
  csv.commit();
}

void write_measurements_csv(const std::string& csv_path, const std::vector<Measurement>& measurements) {
  store::CsvWriter csv(csv_path);
  store::write_csv_header(csv);
  for (const Measurement& row : measurements) store::write_csv_row(csv, row);
  csv.commit();
}

std::string ResultsStore::default_path() {
  // XDG Base Directory: a relative XDG_DATA_HOME is invalid and must be ignored.
  const char* data_home = std::getenv("XDG_DATA_HOME");
  if (data_home && data_home[0] == '/') return std::string(data_home) + "/nmscope/results.db";
  std::string home;
  if (const char* env_home = std::getenv("HOME"); env_home && env_home[0] != '\0') {
    home = env_home;
  } else if (const passwd* entry = getpwuid(getuid()); entry && entry->pw_dir) {
    home = entry->pw_dir;
  }
  return home + "/.local/share/nmscope/results.db";
}

}  // namespace nmscope
