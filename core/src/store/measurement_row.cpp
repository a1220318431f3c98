#include "store/measurement_row.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

#include "nmscope/results_store.hpp"
#include "nmscope/measurement_fields.hpp"

namespace nmscope::store {

namespace {

std::string column_list() {
  std::string list;
  for (const std::string& column : measurement_columns()) {
    if (!list.empty()) list += ", ";
    list += '"' + column + '"';  // quoted: "rows" is an SQL keyword
  }
  return list;
}

int bind_value(sqlite3_stmt* statement, int index, const std::string& value) {
  return sqlite3_bind_text(statement, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}
int bind_value(sqlite3_stmt* statement, int index, double value) { return sqlite3_bind_double(statement, index, value); }
int bind_value(sqlite3_stmt* statement, int index, int64_t value) { return sqlite3_bind_int64(statement, index, value); }
int bind_value(sqlite3_stmt* statement, int index, int value) { return sqlite3_bind_int(statement, index, value); }
int bind_value(sqlite3_stmt* statement, int index, bool value) { return sqlite3_bind_int(statement, index, value ? 1 : 0); }
template <class T>
int bind_value(sqlite3_stmt* statement, int index, const std::optional<T>& value) {
  return value ? bind_value(statement, index, *value) : sqlite3_bind_null(statement, index);
}

void read_value(sqlite3_stmt* statement, int index, std::string& value) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
  value.assign(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(statement, index)));
}
void read_value(sqlite3_stmt* statement, int index, double& value) {
  value = sqlite3_column_type(statement, index) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                               : sqlite3_column_double(statement, index);
}
void read_value(sqlite3_stmt* statement, int index, int64_t& value) { value = sqlite3_column_int64(statement, index); }
void read_value(sqlite3_stmt* statement, int index, int& value) { value = sqlite3_column_int(statement, index); }
void read_value(sqlite3_stmt* statement, int index, bool& value) { value = sqlite3_column_int(statement, index) != 0; }
template <class T>
void read_value(sqlite3_stmt* statement, int index, std::optional<T>& value) {
  if (sqlite3_column_type(statement, index) == SQLITE_NULL) {
    value.reset();
  } else {
    read_value(statement, index, value.emplace());
  }
}

}  // namespace

const std::string& insert_sql() {
  static const std::string sql = [] {
    std::string placeholders;
    for (std::size_t i = 0; i < measurement_columns().size(); ++i) placeholders += i ? ", ?" : "?";
    return "INSERT INTO measurements (" + column_list() + ") VALUES (" + placeholders + ")";
  }();
  return sql;
}

const std::string& select_sql() {
  static const std::string sql = "SELECT " + column_list() + " FROM measurements";
  return sql;
}

int bind_measurement(sqlite3_stmt* statement, const Measurement& measurement) {
  int index = 0;
  int result = SQLITE_OK;
  for_each_field(measurement, [&](const char*, const auto& value) {
    ++index;
    if (result == SQLITE_OK) result = bind_value(statement, index, value);
  });
  return result;
}

Measurement read_measurement(sqlite3_stmt* statement) {
  Measurement measurement;
  int index = 0;
  for_each_field(measurement, [&](const char*, auto& value) { read_value(statement, index++, value); });
  return measurement;
}

}  // namespace nmscope::store
