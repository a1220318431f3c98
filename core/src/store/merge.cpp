#include "nmscope/merge.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/sqlite_statement.hpp"
#include "store/write_transaction.hpp"

namespace nmscope {

namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr std::size_t kConflictExamples = 5;

// The columns of MeasurementKey, plus the host class: what makes two rows the same measurement.
const char* const kKeyColumns[] = {"source_hash", "tensor", "pattern", "bits", "engine",
                                   "batch",       "source", "granularity", "symmetric", "criterion"};
// What a measurement found. Provenance (study, time, host name, build) is not among them: the same figures from two
// runs are a duplicate, not a conflict.
const char* const kFigureColumns[] = {"rows",           "cols",           "kept_per_group", "group_size",  "quant_group",
                                      "storage_bytes",  "compression_vs_fp16", "weight_rel_err", "output_rel_err",
                                      "sqnr_db",        "time_us",        "time_p10_us",    "time_p90_us", "cycles",
                                      "engine_rel_err", "status",         "note",           "details_json"};

std::string host_class_sql(const std::string& table) {
  const std::string host = table + ".host";
  return "(CASE WHEN instr(" + host + ", ' | ') > 0 THEN substr(" + host + ", instr(" + host + ", ' | ') + 3) ELSE " +
         host + " END)";
}

std::string same_key(const std::string& a, const std::string& b) {
  std::string sql;
  for (const char* column : kKeyColumns) sql += a + ".\"" + column + "\" = " + b + ".\"" + column + "\" AND ";
  return sql + host_class_sql(a) + " = " + host_class_sql(b);
}

std::string same_figures(const std::string& a, const std::string& b) {
  std::string sql;
  for (const char* column : kFigureColumns)
    sql += std::string(sql.empty() ? "" : " AND ") + a + ".\"" + column + "\" IS " + b + ".\"" + column + "\"";
  return sql;
}

std::string column_list(const std::string& prefix = "") {
  std::string list;
  for (const std::string& column : measurement_columns()) list += (list.empty() ? "" : ", ") + prefix + "\"" + column + "\"";
  return list;
}

class Connection {
 public:
  Connection(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      const std::string reason = store::last_error(db_);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw Error(path, "cannot open: " + reason);
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db_, 1);
  }
  ~Connection() { sqlite3_close_v2(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

bool has_table(sqlite3* db, const std::string& path, const std::string& schema, const std::string& table) {
  const std::string sql =
      "SELECT count(*) FROM " + schema + ".sqlite_master WHERE type = 'table' AND name = '" + table + "'";
  return store::query_integer(db, path, sql.c_str()) > 0;
}

std::set<std::string> spec_hashes(sqlite3* db, const std::string& path, const std::string& schema) {
  std::set<std::string> hashes;
  if (!has_table(db, path, schema, "sweep_shards")) return hashes;
  store::Statement query(db, path, "SELECT DISTINCT spec_hash FROM " + schema + ".sweep_shards");
  int result;
  while ((result = query.step()) == SQLITE_ROW)
    hashes.insert(reinterpret_cast<const char*>(sqlite3_column_text(query.get(), 0)));
  if (result != SQLITE_DONE) store::throw_sqlite_error(db, path, "cannot read sweep_shards");
  return hashes;
}

struct InputState {
  std::string broken;
  std::set<std::string> spec_hashes;
};

// Throws for what the user must fix (not ours, newer); a damaged file comes back as broken, for resubmission.
InputState inspect_input(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error(path, "no such database file");
  InputState state;
  const Connection connection(path);
  sqlite3* db = connection.get();
  const int probe = store::exec(db, "SELECT count(*) FROM sqlite_master");
  if ((probe & 0xff) == SQLITE_NOTADB) throw Error(path, "not an nmscope results database: " + store::last_error(db));
  if (probe != SQLITE_OK) {
    state.broken = "unreadable: " + store::last_error(db);
    return state;
  }
  const long long application_id = store::query_integer(db, path, "PRAGMA application_id");
  const int version = static_cast<int>(store::query_integer(db, path, "PRAGMA user_version"));
  const long long tables = store::query_integer(db, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  if (application_id == 0 && tables == 0 && version == 0) {
    state.broken = "empty: no schema was written (a shard killed before its first write?)";
    return state;
  }
  if (application_id != ResultsStore::kApplicationId) throw Error(path, "not an nmscope results database");
  if (version > ResultsStore::kSchemaVersion)
    throw Error(path, "written by a newer nmscope (schema " + std::to_string(version) + ", this build reads up to " +
                          std::to_string(ResultsStore::kSchemaVersion) + ")");
  if (!has_table(db, path, "main", "measurements")) throw Error(path, "not an nmscope results database: no measurements table");

  // quick_check walks every page and record (what a job killed mid-write or a truncated copy breaks) without the
  // index-content cross-check that makes integrity_check several times slower on a large shard.
  store::Statement check(db, path, "PRAGMA quick_check");
  const int result = check.step();
  if (result != SQLITE_ROW) {
    state.broken = "failed the integrity check: " + store::last_error(db);
    return state;
  }
  const std::string verdict = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
  if (verdict != "ok") {
    state.broken = "failed the integrity check: " + verdict;
    return state;
  }
  try {
    state.spec_hashes = spec_hashes(db, path, "main");
  } catch (const Error& error) {
    state.broken = error.reason();
  }
  return state;
}

std::string describe_hashes(const std::set<std::string>& hashes) {
  std::string text;
  for (const auto& hash : hashes) text += (text.empty() ? "" : ", ") + hash;
  return text;
}

// Every input of one sweep, and the output's sweep if it has one; else Error naming the first input that differs.
void check_same_sweep(const std::string& output, const std::vector<std::string>& inputs,
                      const std::vector<InputState>& states) {
  std::set<std::string> expected;
  std::string expected_from;
  if (std::filesystem::is_regular_file(output)) {
    try {
      const Connection connection(output);
      expected = spec_hashes(connection.get(), output, "main");
      expected_from = output;
    } catch (const Error&) {
      // The output is checked properly when the store opens it.
    }
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!states[i].broken.empty()) continue;
    const std::set<std::string>& hashes = states[i].spec_hashes;
    if (hashes.empty())
      throw Error(inputs[i], "holds no sweep (not written by nmscope-cli sweep); --force merges it anyway");
    if (hashes.size() > 1)
      throw Error(inputs[i], "holds shards of several sweep specs (" + describe_hashes(hashes) + "); --force merges it anyway");
    if (expected.empty()) {
      expected = hashes;
      expected_from = inputs[i];
    } else if (hashes != expected) {
      throw Error(inputs[i], "from another sweep spec (" + describe_hashes(hashes) + ") than " + expected_from + " (" +
                                 describe_hashes(expected) + "); --force merges it anyway");
    }
  }
}

void merge_input(Connection& out, const std::string& input, MergeInputReport& report,
                 std::vector<MergeConflict>& conflicts) {
  sqlite3* db = out.get();
  {
    store::Statement attach(db, out.path(), "ATTACH DATABASE ? AS shard");
    sqlite3_bind_text(attach.get(), 1, input.data(), static_cast<int>(input.size()), SQLITE_TRANSIENT);
    if (attach.step() != SQLITE_DONE) {
      report.broken = "cannot attach: " + store::last_error(db);
      return;
    }
  }
  struct Detach {
    sqlite3* db;
    ~Detach() { store::exec(db, "DETACH DATABASE shard"); }
  } detach{db};

  const std::string columns = column_list();
  // verdict: 0 new, 1 duplicate, 2 conflict; against the output and against the input's own earlier rows.
  const std::string stage =
      "DROP TABLE IF EXISTS temp.incoming;"
      "CREATE TEMP TABLE incoming AS SELECT id AS shard_id, 0 AS verdict, " + columns +
      " FROM shard.measurements WHERE status IN ('ok', 'unavailable');"
      "CREATE INDEX temp.incoming_by_key ON incoming (source_hash, tensor, pattern, bits, engine, batch, shard_id);"
      "UPDATE incoming SET verdict = CASE"
      " WHEN EXISTS (SELECT 1 FROM main.measurements m WHERE " + same_key("m", "incoming") + " AND " +
      same_figures("m", "incoming") + ")"
      "   OR EXISTS (SELECT 1 FROM incoming j WHERE j.shard_id < incoming.shard_id AND " + same_key("j", "incoming") +
      " AND " + same_figures("j", "incoming") + ") THEN 1"
      " WHEN EXISTS (SELECT 1 FROM main.measurements m WHERE " + same_key("m", "incoming") + ")"
      "   OR EXISTS (SELECT 1 FROM incoming j WHERE j.shard_id < incoming.shard_id AND " + same_key("j", "incoming") +
      ") THEN 2 ELSE 0 END;"
      "INSERT INTO main.measurements (" + columns + ") SELECT " + columns +
      " FROM incoming WHERE verdict = 0 ORDER BY shard_id;";
  const bool has_sweeps = has_table(db, out.path(), "shard", "sweep_shards");
  try {
    store::run_write_transaction(db, out.path(), "cannot merge " + input, [&] {
      int result = store::exec(db, stage.c_str());
      if (result != SQLITE_OK) return result;
      report.shard_runs = 0;
      if (has_sweeps) {
        result = store::exec(db, "INSERT OR IGNORE INTO main.sweep_shards SELECT * FROM shard.sweep_shards");
        if (result != SQLITE_OK) return result;
        report.shard_runs = sqlite3_changes(db);
      }
      return SQLITE_OK;
    });
  } catch (const Error& error) {
    // The transaction rolled back: nothing of this input is in the output.
    report.broken = error.reason();
    store::exec(db, "DROP TABLE IF EXISTS temp.incoming");
    return;
  }

  store::Statement counts(db, out.path(), "SELECT verdict, count(*) FROM temp.incoming GROUP BY verdict");
  while (counts.step() == SQLITE_ROW) {
    const int64_t count = sqlite3_column_int64(counts.get(), 1);
    switch (sqlite3_column_int(counts.get(), 0)) {
      case 0: report.added = count; break;
      case 1: report.duplicates = count; break;
      default: report.conflicts = count; break;
    }
  }
  report.failed_rows = store::query_integer(
      db, out.path(), "SELECT count(*) FROM shard.measurements WHERE status NOT IN ('ok', 'unavailable')");
  store::Statement examples(db, out.path(),
                            "SELECT tensor, pattern, bits, granularity, engine, batch, " + host_class_sql("incoming") +
                                " FROM temp.incoming WHERE verdict = 2 ORDER BY shard_id LIMIT " +
                                std::to_string(kConflictExamples));
  while (examples.step() == SQLITE_ROW && conflicts.size() < kConflictExamples) {
    auto text = [&](int column) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(examples.get(), column))); };
    conflicts.push_back({input, text(0) + "  " + text(1) + "  " + (text(2) == "16" ? "fp16" : "int" + text(2)) + " " +
                                    text(3) + "  " + text(4) + "  b" + text(5) + "  (" + text(6) + ")"});
  }
  store::exec(db, "DROP TABLE IF EXISTS temp.incoming");
}

}  // namespace

int64_t MergeReport::added() const {
  int64_t total = 0;
  for (const auto& input : inputs) total += input.added;
  return total;
}

int64_t MergeReport::duplicates() const {
  int64_t total = 0;
  for (const auto& input : inputs) total += input.duplicates;
  return total;
}

int64_t MergeReport::conflicts() const {
  int64_t total = 0;
  for (const auto& input : inputs) total += input.conflicts;
  return total;
}

std::vector<std::string> MergeReport::broken() const {
  std::vector<std::string> paths;
  for (const auto& input : inputs)
    if (!input.broken.empty()) paths.push_back(input.path);
  return paths;
}

std::string host_class(const std::string& host) {
  const std::size_t bar = host.find(" | ");
  return bar == std::string::npos ? host : host.substr(bar + 3);
}

MergeReport merge_databases(const std::string& output, const std::vector<std::string>& inputs,
                            const MergeOptions& options) {
  if (inputs.empty()) throw Error("merge", "no input database given");
  std::error_code error;
  for (const auto& input : inputs)
    if (std::filesystem::equivalent(input, output, error))
      throw Error(input, "is the output database; an input cannot be merged into itself");

  std::vector<InputState> states;
  for (const auto& input : inputs) states.push_back(inspect_input(input));
  if (!options.force) check_same_sweep(output, inputs, states);

  { const ResultsStore create_or_migrate(output); }
  Connection out(output);
  store::exec(out.get(), "PRAGMA temp_store = MEMORY");
  store::exec(out.get(), "PRAGMA synchronous = NORMAL");

  MergeReport report;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    MergeInputReport input_report;
    input_report.path = inputs[i];
    input_report.broken = states[i].broken;
    if (input_report.broken.empty()) merge_input(out, inputs[i], input_report, report.conflict_examples);
    report.inputs.push_back(std::move(input_report));
  }
  return report;
}

}  // namespace nmscope
