// ResultsStore::export_table_csv (any exportable table as CSV, its columns as the database has them, so a new column
// needs no change here) and ResultsStore::integrity_problem: the store's whole-file reads.
#include <sqlite3.h>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store/csv_writer.hpp"
#include "store/sqlite_statement.hpp"

namespace nmscope {

const std::vector<std::string>& ResultsStore::exportable_tables() {
  static const std::vector<std::string> tables = {"measurements", "model_evaluations", "model_rollups", "decode"};
  return tables;
}

int64_t ResultsStore::export_table_csv(const std::string& table, const std::string& csv_path) const {
  if (table == "measurements") {
    export_csv(csv_path);
    return count();
  }
  std::string sql;
  if (table == "model_evaluations" || table == "model_rollups") {
    sql = "SELECT * FROM " + table + " ORDER BY rowid";
  } else if (table == "decode") {
    // Decode-step rows time a whole model step: no matrix of their own (rows 0), their tensor names the step.
    sql = "SELECT * FROM measurements WHERE rows = 0 AND tensor LIKE 'decode-step%' ORDER BY id";
  } else {
    std::string known;
    for (const std::string& name : exportable_tables()) known += (known.empty() ? "" : ", ") + name;
    throw SettingError(Setting::Table, "'" + table + "' is not a table to export (" + known + ", all)");
  }
  std::lock_guard lock(mutex_);
  store::CsvWriter csv(csv_path);
  store::Statement query(db_, path_, sql);
  const int columns = sqlite3_column_count(query.get());
  for (int column = 0; column < columns; ++column) csv.text(sqlite3_column_name(query.get(), column));
  csv.end_row();
  int64_t rows = 0;
  int result;
  while ((result = query.step()) == SQLITE_ROW) {
    for (int column = 0; column < columns; ++column) {
      switch (sqlite3_column_type(query.get(), column)) {
        case SQLITE_INTEGER:
          csv.integer(sqlite3_column_int64(query.get(), column));
          break;
        case SQLITE_FLOAT:
          csv.number(sqlite3_column_double(query.get(), column));
          break;
        case SQLITE_NULL:
          csv.empty();
          break;
        default: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(query.get(), column));
          csv.text(text ? std::string_view(text, size_t(sqlite3_column_bytes(query.get(), column))) : "");
        }
      }
    }
    csv.end_row();
    ++rows;
  }
  if (result != SQLITE_DONE) store::throw_sqlite_error(db_, path_, "cannot read " + table);
  csv.commit();
  return rows;
}

std::string ResultsStore::integrity_problem() const {
  std::lock_guard lock(mutex_);
  store::Statement check(db_, path_, "PRAGMA quick_check(1)");
  if (check.step() != SQLITE_ROW) return store::last_error(db_);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
  const std::string verdict = text ? text : "";
  return verdict == "ok" ? std::string() : verdict;
}

}  // namespace nmscope
