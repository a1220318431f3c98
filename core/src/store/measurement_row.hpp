#pragma once
// A Measurement as one row of the measurements table: the SQL that writes and reads it, and the conversions between
// struct fields and statement parameters / result columns (both in measurement_columns() order).
#include <sqlite3.h>

#include <string>

#include "nmscope/measurement.hpp"

namespace nmscope::store {

// "INSERT INTO measurements (<columns>) VALUES (?, ...)".
const std::string& insert_sql();
// "SELECT <columns> FROM measurements"; the caller appends WHERE / ORDER BY.
const std::string& select_sql();

// Binds every field to parameters 1..n; absent optionals become NULL. Returns SQLITE_OK or the failing bind's code.
int bind_measurement(sqlite3_stmt* statement, const Measurement& measurement);
// Reads columns 0..n-1 of the current row; NULL in an optional column gives nullopt, in a REAL column NaN.
Measurement read_measurement(sqlite3_stmt* statement);

}  // namespace nmscope::store
