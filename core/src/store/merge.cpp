#include "nmscope/merge.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/measurement_figures.hpp"
#include "store/measurement_row.hpp"
#include "store/sqlite_statement.hpp"
#include "store/write_transaction.hpp"

namespace nmscope {

namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr std::size_t kConflictExamples = 5;

// The columns of MeasurementKey, plus the host class: what makes two rows the same measurement.
const char* const kKeyColumns[] = {"source_hash", "tensor", "pattern",     "bits",      "engine",
                                   "batch",       "source", "granularity", "symmetric", "criterion"};
// What a measurement found. Provenance (study, time, host name, build) is not among them: the same figures from two
// runs are a duplicate, not a conflict.
const char* const kFigureColumns[] = {"rows",
                                      "cols",
                                      "kept_per_group",
                                      "group_size",
                                      "quant_group",
                                      "storage_bytes",
                                      "compression_vs_fp16",
                                      "weight_rel_err",
                                      "output_rel_err",
                                      "sqnr_db",
                                      "time_us",
                                      "time_p10_us",
                                      "time_p90_us",
                                      "cycles",
                                      "engine_rel_err",
                                      "status",
                                      "note",
                                      "details_json"};

std::string host_class_sql(const std::string& table) {
  const std::string host = table + ".host";
  return "(CASE WHEN instr(" + host + ", ' | ') > 0 THEN substr(" + host + ", instr(" + host + ", ' | ') + 3) ELSE " +
         host + " END)";
}

std::string column_list(const std::string& prefix = "") {
  std::string list;
  for (const std::string& column : measurement_columns())
    list += (list.empty() ? "" : ", ") + prefix + "\"" + column + "\"";
  return list;
}

class Connection {
 public:
  Connection(const std::string& path) : path_(path) {
    // NOMUTEX: one thread uses each connection; SQLite's own locking per call was ~4 % of a large merge.
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
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
  if (!has_table(db, path, "main", "measurements"))
    throw Error(path, "not an nmscope results database: no measurements table");

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
      throw Error(inputs[i],
                  "holds shards of several sweep specs (" + describe_hashes(hashes) + "); --force merges it anyway");
    if (expected.empty()) {
      expected = hashes;
      expected_from = inputs[i];
    } else if (hashes != expected) {
      throw Error(inputs[i], "from another sweep spec (" + describe_hashes(hashes) + ") than " + expected_from + " (" +
                                 describe_hashes(expected) + "); --force merges it anyway");
    }
  }
}

// Thrown for a failure of the input (unreadable page, malformed record): the input is reported, not the merge.
struct InputFailure {
  std::string reason;
};

bool same_value(sqlite3_value* a, sqlite3_value* b) {
  const int type = sqlite3_value_type(a);
  if (type != sqlite3_value_type(b)) return false;
  switch (type) {
    case SQLITE_NULL:
      return true;
    case SQLITE_INTEGER:
      return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT:
      return sqlite3_value_double(a) == sqlite3_value_double(b);
    default: {
      // An empty text or blob comes back as a null pointer, which memcmp must not see.
      const int bytes = sqlite3_value_bytes(a);
      return bytes == sqlite3_value_bytes(b) &&
             (bytes == 0 || std::memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b), std::size_t(bytes)) == 0);
    }
  }
}

std::string value_text(sqlite3_value* value) {
  const unsigned char* text = sqlite3_value_text(value);
  return text ? reinterpret_cast<const char*>(text) : "NULL";
}

// The first identifying figure in which the stored row (the lookup's columns, in kFigureColumns order) and the
// incoming row differ, as "time_us 12.5 vs 13.1"; "" when they are the same result. details_json is compared key by
// key, leaving out what describes the run (store/measurement_figures.hpp).
std::string figure_difference(sqlite3_stmt* stored, sqlite3_stmt* incoming, const std::vector<int>& figure_columns) {
  for (std::size_t f = 0; f < figure_columns.size(); ++f) {
    sqlite3_value* a = sqlite3_column_value(stored, int(f));
    sqlite3_value* b = sqlite3_column_value(incoming, figure_columns[f]);
    if (std::strcmp(kFigureColumns[f], "details_json") == 0) {
      std::string difference = store::details_difference(value_text(a), value_text(b));
      if (!difference.empty()) return difference;
    } else if (!same_value(a, b)) {
      return std::string(kFigureColumns[f]) + " " + value_text(a) + " vs " + value_text(b);
    }
  }
  return {};
}

std::string text_of(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return std::string(text ? text : "", std::size_t(sqlite3_column_bytes(statement, column)));
}

int column_index(const std::string& name) {
  const auto& columns = measurement_columns();
  return int(std::find(columns.begin(), columns.end(), name) - columns.begin());
}

// A model table: which of its columns make a row's key (the rest, but for id, study_id, created_at and the
// provenance named in `provenance`, are its figures).
struct RecordTable {
  const char* name;
  std::vector<std::string> key;
  std::vector<std::string> provenance;
  bool host_class_in_key;
};

const RecordTable kModelEvaluations{"model_evaluations",
                                    {"model", "pattern", "bits", "granularity", "quant_group", "symmetric", "criterion",
                                     "quantizer", "calibration", "evaluation", "eval_sequences", "eval_tokens"},
                                    // How long an evaluation took is how busy the machine was, not a finding.
                                    {"seconds", "host", "build"},
                                    true};
const RecordTable kModelRollups{"model_rollups",
                                {"model", "source", "pattern", "bits", "granularity", "quant_group", "symmetric",
                                 "criterion", "engine", "batch", "role"},
                                {},
                                false};

std::vector<std::string> table_columns(sqlite3* db, const std::string& path, const std::string& table) {
  std::vector<std::string> columns;
  store::Statement info(db, path, "SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid");
  while (info.step() == SQLITE_ROW) columns.push_back(text_of(info.get(), 0));
  return columns;
}

std::string quoted(const std::string& column) { return "\"" + column + "\""; }

// One model table of one input, row by row as merge_input does measurements: a key lookup in the output (these
// tables hold a row per configuration, so a scan is cheap), then duplicate, conflict or insert.
void merge_records(Connection& out, const Connection& shard, const std::string& input, const RecordTable& table,
                   MergeCounts& counts, std::vector<MergeConflict>& conflicts) {
  if (!has_table(shard.get(), input, "main", table.name)) return;
  sqlite3* db = out.get();
  std::vector<std::string> columns;
  for (const std::string& column : table_columns(db, out.path(), table.name))
    if (column != "id") columns.push_back(column);
  auto index_of = [&](const std::string& name) {
    return int(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  std::vector<int> figures;
  for (const std::string& column : columns) {
    const bool skip = column == "study_id" || column == "created_at" ||
                      std::find(table.key.begin(), table.key.end(), column) != table.key.end() ||
                      std::find(table.provenance.begin(), table.provenance.end(), column) != table.provenance.end();
    if (!skip) figures.push_back(index_of(column));
  }
  std::string list;
  for (const std::string& column : columns) list += (list.empty() ? "" : ", ") + quoted(column);
  std::string lookup_sql = "SELECT " + list + " FROM main." + table.name + " r WHERE ";
  for (const std::string& column : table.key) lookup_sql += "r." + quoted(column) + " IS ? AND ";
  lookup_sql += table.host_class_in_key ? host_class_sql("r") + " = ?" : std::string("1");
  std::string insert_sql = "INSERT INTO main." + std::string(table.name) + " (" + list + ") VALUES (";
  for (std::size_t c = 0; c < columns.size(); ++c) insert_sql += c ? ", ?" : "?";
  insert_sql += ")";

  store::Statement rows(shard.get(), input, "SELECT " + list + " FROM " + table.name + " ORDER BY id");
  store::Statement lookup(db, out.path(), lookup_sql);
  store::Statement insert(db, out.path(), insert_sql);
  int result;
  while ((result = rows.step()) == SQLITE_ROW) {
    sqlite3_stmt* row = rows.get();
    lookup.reset();
    for (std::size_t k = 0; k < table.key.size(); ++k)
      sqlite3_bind_value(lookup.get(), int(k) + 1, sqlite3_column_value(row, index_of(table.key[k])));
    std::string row_host_class;
    if (table.host_class_in_key) {
      row_host_class = host_class(text_of(row, index_of("host")));
      sqlite3_bind_text(lookup.get(), int(table.key.size()) + 1, row_host_class.data(), int(row_host_class.size()),
                        SQLITE_TRANSIENT);
    }
    bool same_key_found = false, same_figures_found = false;
    int found = SQLITE_DONE;
    while (!same_figures_found && (found = lookup.step()) == SQLITE_ROW) {
      same_key_found = true;
      bool same = true;
      for (std::size_t f = 0; same && f < figures.size(); ++f)
        same = same_value(sqlite3_column_value(lookup.get(), figures[f]), sqlite3_column_value(row, figures[f]));
      same_figures_found = same;
    }
    if (!same_figures_found && found != SQLITE_DONE) store::throw_sqlite_error(db, out.path(), "cannot merge " + input);
    if (same_figures_found) {
      ++counts.duplicates;
    } else if (same_key_found) {
      ++counts.conflicts;
      if (conflicts.size() < kConflictExamples) {
        std::string description = std::string(table.name) + ":";
        for (const char* column : {"model", "pattern", "bits", "criterion", "quantizer", "engine", "batch", "role"})
          if (index_of(column) < int(columns.size())) description += "  " + text_of(row, index_of(column));
        if (table.host_class_in_key) description += "  (" + row_host_class + ")";
        conflicts.push_back({input, description});
      }
    } else {
      insert.reset();
      for (std::size_t c = 0; c < columns.size(); ++c)
        sqlite3_bind_value(insert.get(), int(c) + 1, sqlite3_column_value(row, int(c)));
      if (insert.step() != SQLITE_DONE) store::throw_sqlite_error(db, out.path(), "cannot merge " + input);
      ++counts.added;
    }
  }
  if (result != SQLITE_DONE)
    throw InputFailure{"cannot read its " + std::string(table.name) + ": " + store::last_error(shard.get())};
}

// Merges one input inside the caller's transaction, under a savepoint: all of it or nothing of it. Row by row: the
// key is looked up in the output (an index seek on measurements_by_key), which also holds the input's own earlier
// rows, so a key repeated within one input is told apart the same way.
void merge_input(Connection& out, const std::string& input, MergeInputReport& report,
                 std::vector<MergeConflict>& conflicts) {
  sqlite3* db = out.get();
  if (store::exec(db, "SAVEPOINT merge_input") != SQLITE_OK) store::throw_sqlite_error(db, out.path(), "cannot merge");
  auto roll_back = [&] { store::exec(db, "ROLLBACK TO merge_input; RELEASE merge_input"); };
  try {
    const Connection shard(input);
    store::Statement rows(
        shard.get(), input,
        "SELECT " + column_list() + " FROM measurements WHERE status IN ('ok', 'unavailable', 'overflow') ORDER BY id");
    std::string lookup_sql = "SELECT ";
    for (const char* column : kFigureColumns)
      lookup_sql += std::string(lookup_sql.size() > 7 ? ", " : "") + "\"" + column + "\"";
    lookup_sql += " FROM main.measurements m WHERE ";
    std::vector<int> key_columns;
    for (const char* column : kKeyColumns) {
      lookup_sql += "m.\"" + std::string(column) + "\" = ? AND ";
      key_columns.push_back(column_index(column));
    }
    lookup_sql += host_class_sql("m") + " = ?";
    std::vector<int> figure_columns;
    for (const char* column : kFigureColumns) figure_columns.push_back(column_index(column));
    const int host_column = column_index("host");

    store::Statement lookup(db, out.path(), lookup_sql);
    store::Statement insert(db, out.path(), store::insert_sql());
    const auto& names = measurement_columns();
    int result;
    while ((result = rows.step()) == SQLITE_ROW) {
      sqlite3_stmt* row = rows.get();
      lookup.reset();
      for (std::size_t k = 0; k < key_columns.size(); ++k)
        sqlite3_bind_value(lookup.get(), int(k) + 1, sqlite3_column_value(row, key_columns[k]));
      const std::string row_host_class = host_class(text_of(row, host_column));
      sqlite3_bind_text(lookup.get(), int(key_columns.size()) + 1, row_host_class.data(), int(row_host_class.size()),
                        SQLITE_TRANSIENT);
      bool same_key_found = false, same_figures_found = false;
      std::string difference;  // the first identifying figure that differs from the last row of the same key
      int found;
      while (!same_figures_found && (found = lookup.step()) == SQLITE_ROW) {
        same_key_found = true;
        difference = figure_difference(lookup.get(), row, figure_columns);
        same_figures_found = difference.empty();
      }
      if (!same_figures_found && found != SQLITE_DONE)
        store::throw_sqlite_error(db, out.path(), "cannot merge " + input);
      if (same_figures_found) {
        ++report.duplicates;
      } else if (same_key_found) {
        ++report.conflicts;
        if (conflicts.size() < kConflictExamples) {
          auto text = [&](const char* name) { return text_of(row, column_index(name)); };
          conflicts.push_back({input, text("tensor") + "  " + text("pattern") + "  " +
                                          (text("bits") == "16" ? "fp16" : "int" + text("bits")) + " " +
                                          text("granularity") + "  " + text("engine") + "  b" + text("batch") + "  (" +
                                          row_host_class + "): " + difference});
        }
      } else {
        insert.reset();
        for (std::size_t c = 0; c < names.size(); ++c)
          sqlite3_bind_value(insert.get(), int(c) + 1, sqlite3_column_value(row, int(c)));
        if (insert.step() != SQLITE_DONE) store::throw_sqlite_error(db, out.path(), "cannot merge " + input);
        ++report.added;
      }
    }
    if (result != SQLITE_DONE) throw InputFailure{"cannot read its measurements: " + store::last_error(shard.get())};
    report.failed_rows = store::query_integer(
        shard.get(), input, "SELECT count(*) FROM measurements WHERE status NOT IN ('ok', 'unavailable', 'overflow')");

    if (has_table(shard.get(), input, "main", "sweep_shards")) {
      store::Statement runs(shard.get(), input, "SELECT * FROM sweep_shards");
      store::Statement copy(db, out.path(),
                            "INSERT OR IGNORE INTO main.sweep_shards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      while ((result = runs.step()) == SQLITE_ROW) {
        copy.reset();
        for (int column = 0; column < 10; ++column)
          sqlite3_bind_value(copy.get(), column + 1, sqlite3_column_value(runs.get(), column));
        if (copy.step() != SQLITE_DONE) store::throw_sqlite_error(db, out.path(), "cannot merge " + input);
        report.shard_runs += sqlite3_changes(db);
      }
      if (result != SQLITE_DONE) throw InputFailure{"cannot read its sweep_shards: " + store::last_error(shard.get())};
    }
    merge_records(out, shard, input, kModelEvaluations, report.model_evaluations, conflicts);
    merge_records(out, shard, input, kModelRollups, report.model_rollups, conflicts);
  } catch (const InputFailure& failure) {
    roll_back();
    report = MergeInputReport{};
    report.path = input;
    report.broken = failure.reason;
    return;
  } catch (const Error& error) {
    roll_back();
    // The input changed or broke after the check (it cannot be opened or read): that input is broken, not the merge.
    if (error.subject() == input) {
      report = MergeInputReport{};
      report.path = input;
      report.broken = error.reason();
      return;
    }
    throw;
  }
  store::exec(db, "RELEASE merge_input");
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

namespace {

// One table's counts summed over the inputs.
template <typename Input>
MergeCounts sum_counts(const std::vector<Input>& inputs, MergeCounts Input::*table) {
  MergeCounts total;
  for (const Input& input : inputs) {
    total.added += (input.*table).added;
    total.duplicates += (input.*table).duplicates;
    total.conflicts += (input.*table).conflicts;
  }
  return total;
}

}  // namespace

MergeCounts MergeReport::model_evaluations() const { return sum_counts(inputs, &MergeInputReport::model_evaluations); }

MergeCounts MergeReport::model_rollups() const { return sum_counts(inputs, &MergeInputReport::model_rollups); }

int64_t MergeReport::all_conflicts() const {
  return conflicts() + model_evaluations().conflicts + model_rollups().conflicts;
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
  // SQLite's default 2 MiB page cache holds a sliver of the output's indexes once it reaches a million rows; every
  // insert then re-reads index pages from the OS. 256 MiB keeps them cached (memory is only taken as pages are used).
  store::exec(out.get(), "PRAGMA cache_size = -262144");
  store::exec(out.get(), "PRAGMA synchronous = NORMAL");

  // One transaction for the whole merge: each input's rows touch index pages all over the output, and a commit per
  // input wrote those pages to the log again and again (a million rows from 100 shards took about a minute). A
  // killed merge leaves the output as it was; merging again is idempotent.
  MergeReport report;
  store::run_write_transaction(out.get(), output, "cannot merge", [&] {
    report = MergeReport{};
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      MergeInputReport input_report;
      input_report.path = inputs[i];
      input_report.broken = states[i].broken;
      if (input_report.broken.empty()) merge_input(out, inputs[i], input_report, report.conflict_examples);
      report.inputs.push_back(std::move(input_report));
    }
    return SQLITE_OK;
  });
  return report;
}

}  // namespace nmscope
