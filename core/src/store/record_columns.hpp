#pragma once
// A table of (column, field) pairs that drives the column list, the binding and the reading of one record type, so
// the three cannot disagree on the order (model_evaluations, model_rollups).
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nmscope::store {

// One field of a record and the column(s) it is stored in: most fields take one column; a typed configuration
// (store/configuration_column.hpp) spells itself in several. bind and read get the index of the first column.
template <typename Record>
struct RecordColumn {
  std::vector<const char*> names;
  std::function<int(sqlite3_stmt*, int, const Record&)> bind;
  std::function<void(sqlite3_stmt*, int, Record&)> read;
};

template <typename Record>
RecordColumn<Record> text_column(const char* name, std::string Record::*field) {
  return {{name},
          [field](sqlite3_stmt* s, int i, const Record& r) {
            const std::string& value = r.*field;
            return sqlite3_bind_text(s, i, value.data(), int(value.size()), SQLITE_TRANSIENT);
          },
          [field](sqlite3_stmt* s, int i, Record& r) {
            const auto* value = sqlite3_column_text(s, i);
            r.*field = value ? reinterpret_cast<const char*>(value) : "";
          }};
}

template <typename Record, typename Int>
RecordColumn<Record> integer_column(const char* name, Int Record::*field) {
  return {{name},
          [field](sqlite3_stmt* s, int i, const Record& r) { return sqlite3_bind_int64(s, i, int64_t(r.*field)); },
          [field](sqlite3_stmt* s, int i, Record& r) { r.*field = Int(sqlite3_column_int64(s, i)); }};
}

// NaN is stored as NULL (SQLite has no NaN) and read back as NaN.
template <typename Record>
RecordColumn<Record> real_column(const char* name, double Record::*field) {
  return {{name},
          [field](sqlite3_stmt* s, int i, const Record& r) {
            return std::isnan(r.*field) ? sqlite3_bind_null(s, i) : sqlite3_bind_double(s, i, r.*field);
          },
          [field](sqlite3_stmt* s, int i, Record& r) {
            r.*field = sqlite3_column_type(s, i) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s, i);
          }};
}

template <typename Record>
std::string column_list(const std::vector<RecordColumn<Record>>& columns) {
  std::string text;
  for (const auto& column : columns)
    for (const char* name : column.names) text += std::string(text.empty() ? "" : ", ") + name;
  return text;
}

template <typename Record>
std::string insert_sql(const char* table, const std::vector<RecordColumn<Record>>& columns) {
  std::string placeholders;
  for (const auto& column : columns)
    for (size_t name = 0; name < column.names.size(); ++name) placeholders += placeholders.empty() ? "?" : ", ?";
  return std::string("INSERT INTO ") + table + " (" + column_list(columns) + ") VALUES (" + placeholders + ")";
}

template <typename Record>
int bind_record(sqlite3_stmt* statement, const std::vector<RecordColumn<Record>>& columns, const Record& record) {
  int parameter = 1;  // SQLite numbers parameters from 1
  for (const auto& column : columns) {
    const int result = column.bind(statement, parameter, record);
    if (result != SQLITE_OK) return result;
    parameter += int(column.names.size());
  }
  return SQLITE_OK;
}

template <typename Record>
Record read_record(sqlite3_stmt* statement, const std::vector<RecordColumn<Record>>& columns) {
  Record record;
  int index = 0;  // and result columns from 0
  for (const auto& column : columns) {
    column.read(statement, index, record);
    index += int(column.names.size());
  }
  return record;
}

}  // namespace nmscope::store
