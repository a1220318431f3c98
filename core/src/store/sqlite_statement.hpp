#pragma once
// Thin RAII over the SQLite C API: a prepared statement that finalizes itself, and the two ways the store turns a
// SQLite failure into an Error naming the database file.
#include <sqlite3.h>

#include <string>

namespace nmscope::store {

// SQLite's own message for the last failure on db, e.g. "database or disk is full", followed by the system's
// reason for an I/O failure, e.g. "disk I/O error (File too large)".
std::string last_error(sqlite3* db);

// Throws Error(path, context + ": " + sqlite3_errmsg(db)).
[[noreturn]] void throw_sqlite_error(sqlite3* db, const std::string& path, const std::string& context);

// True for the result codes that mean "another connection holds the lock; trying again later can succeed".
bool is_busy(int result_code);

// Runs SQL that returns no rows (may hold several statements); returns the SQLite result code, never throws.
int exec(sqlite3* db, const char* sql);

class Statement {
 public:
  // Throws Error(path, ...) when the SQL does not compile against this database.
  Statement(sqlite3* db, const std::string& path, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return statement_; }
  // sqlite3_step's result code: SQLITE_ROW, SQLITE_DONE or a failure.
  int step() { return sqlite3_step(statement_); }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// Reads the single integer that a query such as "PRAGMA user_version" returns; throws Error(path, ...) on failure.
long long query_integer(sqlite3* db, const std::string& path, const char* sql);

}  // namespace nmscope::store
