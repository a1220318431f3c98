#include "nmscope/sweep_progress.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/sqlite_statement.hpp"

namespace nmscope {

namespace {

// The parts of a measurement key that differ between the points of one spec (granularity and symmetry are the
// spec's own; the content hash would need every tensor read), joined with a separator no field contains.
std::string point_key(const std::string& source, const std::string& tensor, const std::string& pattern, int bits,
                      const std::string& criterion, const std::string& engine, int batch) {
  return source + '\x1f' + tensor + '\x1f' + pattern + '\x1f' + std::to_string(bits) + '\x1f' + criterion + '\x1f' +
         engine + '\x1f' + std::to_string(batch);
}

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text ? text : "";
}

class ReadOnlyDatabase {
 public:
  explicit ReadOnlyDatabase(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      reason_ = "cannot open: " + store::last_error(db_);
    else
      sqlite3_busy_timeout(db_, 10000);
  }
  ~ReadOnlyDatabase() { sqlite3_close_v2(db_); }
  sqlite3* get() const { return db_; }
  const std::string& reason() const { return reason_; }

 private:
  sqlite3* db_ = nullptr;
  std::string reason_;
};

}  // namespace

std::string ShardDatabaseState::describe() const {
  if (!exists) return "no database";
  if (!broken.empty()) return "broken: " + broken;
  return present == planned ? "complete" : "partial";
}

ShardDatabaseState inspect_shard_database(const SweepSpec& spec, const SweepPlan& plan,
                                          const ShardAssignment& assignment, int shard, const std::string& path) {
  ShardDatabaseState state;
  state.path = path;
  std::set<std::string> planned;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    if (assignment.shard_of[i] != shard) continue;
    const SweepPoint& point = plan.points[i];
    const SweepTensor& tensor = plan.tensors[point.tensor];
    planned.insert(point_key(spec.sources[tensor.source], tensor.name, spec.patterns[point.pattern].to_string(),
                             spec.bits[point.bits], criterion_name(spec.criteria[point.criterion]),
                             plan.engines[point.engine], point.batch < 0 ? 0 : spec.batches[point.batch]));
  }
  state.planned = int64_t(planned.size());
  std::error_code error;
  state.exists = std::filesystem::is_regular_file(path, error);
  if (!state.exists) return state;

  const ReadOnlyDatabase database(path);
  if (!database.reason().empty()) {
    state.broken = database.reason();
    return state;
  }
  sqlite3* db = database.get();
  try {
    if (store::exec(db, "SELECT count(*) FROM sqlite_master") != SQLITE_OK) {
      state.broken = "unreadable: " + store::last_error(db);
      return state;
    }
    if (store::query_integer(db, path, "PRAGMA application_id") != ResultsStore::kApplicationId) {
      // A shard killed before its first write leaves an empty file: nothing of it is there yet.
      if (store::query_integer(db, path, "SELECT count(*) FROM sqlite_master") == 0) return state;
      state.broken = "not an nmscope results database";
      return state;
    }
    store::Statement check(db, path, "PRAGMA quick_check");
    if (check.step() != SQLITE_ROW || text_column(check.get(), 0) != "ok") {
      state.broken = "failed the integrity check";
      return state;
    }
    store::Statement rows(db, path,
                          "SELECT source, tensor, pattern, bits, criterion, engine, batch, status FROM measurements");
    int result;
    std::set<std::string> found;
    while ((result = rows.step()) == SQLITE_ROW) {
      ++state.rows;
      const std::string status = text_column(rows.get(), 7);
      if (status != "ok" && status != "unavailable") continue;
      const std::string key =
          point_key(text_column(rows.get(), 0), text_column(rows.get(), 1), text_column(rows.get(), 2),
                    sqlite3_column_int(rows.get(), 3), text_column(rows.get(), 4), text_column(rows.get(), 5),
                    sqlite3_column_int(rows.get(), 6));
      if (planned.count(key)) found.insert(key);
    }
    if (result != SQLITE_DONE) {
      state.broken = "cannot read its measurements: " + store::last_error(db);
      return state;
    }
    state.present = int64_t(found.size());
  } catch (const Error& failure) {
    state.broken = failure.reason();
  }
  return state;
}

}  // namespace nmscope
