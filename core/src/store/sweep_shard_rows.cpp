// ResultsStore's sweep_shards table (schema 3): written once at the start of each shard run, read by merge and tests.
#include <sqlite3.h>

#include "nmscope/host_info.hpp"
#include "nmscope/results_store.hpp"
#include "store/sqlite_statement.hpp"
#include "store/write_transaction.hpp"

namespace nmscope {

namespace {

int bind_text(sqlite3_stmt* statement, int index, const std::string& value) {
  return sqlite3_bind_text(statement, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return std::string(value ? value : "", static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
}

}  // namespace

void ResultsStore::insert_sweep_shard(const SweepShardRecord& record) {
  std::lock_guard lock(mutex_);
  SweepShardRecord row = record;
  if (row.created_at.empty()) row.created_at = utc_timestamp();
  store::Statement statement(db_, path_,
                             "INSERT OR REPLACE INTO sweep_shards (study_id, created_at, spec_hash, shard_index, "
                             "shard_count, points, host, build, slurm_job_id, slurm_array_task_id) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  store::run_write_transaction(db_, path_, "cannot record the sweep shard", [&] {
    statement.reset();
    sqlite3_stmt* s = statement.get();
    int result = SQLITE_OK;
    for (int bound : {bind_text(s, 1, row.study_id), bind_text(s, 2, row.created_at), bind_text(s, 3, row.spec_hash),
                      sqlite3_bind_int(s, 4, row.shard_index), sqlite3_bind_int(s, 5, row.shard_count),
                      sqlite3_bind_int64(s, 6, row.points), bind_text(s, 7, row.host), bind_text(s, 8, row.build),
                      bind_text(s, 9, row.slurm_job_id), bind_text(s, 10, row.slurm_array_task_id)})
      if (result == SQLITE_OK) result = bound;
    if (result != SQLITE_OK) return result;
    result = statement.step();
    return result == SQLITE_DONE ? SQLITE_OK : result;
  });
}

std::vector<SweepShardRecord> ResultsStore::sweep_shards() const {
  std::lock_guard lock(mutex_);
  store::Statement query(db_, path_,
                         "SELECT study_id, created_at, spec_hash, shard_index, shard_count, points, host, build, "
                         "slurm_job_id, slurm_array_task_id FROM sweep_shards ORDER BY rowid");
  std::vector<SweepShardRecord> rows;
  int result;
  while ((result = query.step()) == SQLITE_ROW) {
    sqlite3_stmt* s = query.get();
    rows.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), sqlite3_column_int(s, 3),
                    sqlite3_column_int(s, 4), sqlite3_column_int64(s, 5), column_text(s, 6), column_text(s, 7),
                    column_text(s, 8), column_text(s, 9)});
  }
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read sweep shards");
  return rows;
}

}  // namespace nmscope
