#include "store/sqlite_statement.hpp"

#include "nmscope/error.hpp"

namespace nmscope::store {

std::string last_error(sqlite3* db) {
  const char* message = db ? sqlite3_errmsg(db) : nullptr;
  return message ? message : "out of memory";
}

void throw_sqlite_error(sqlite3* db, const std::string& path, const std::string& context) {
  throw Error(path, context + ": " + last_error(db));
}

bool is_busy(int result_code) {
  // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE, ...) share the primary code's low byte.
  const int primary = result_code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

Statement::Statement(sqlite3* db, const std::string& path, const std::string& sql) {
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size() + 1), &statement_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(statement_);
    statement_ = nullptr;
    throw_sqlite_error(db, path, "cannot prepare statement");
  }
}

Statement::~Statement() { sqlite3_finalize(statement_); }

long long query_integer(sqlite3* db, const std::string& path, const char* sql) {
  Statement statement(db, path, sql);
  const int result = statement.step();
  if (result == SQLITE_ROW) return sqlite3_column_int64(statement.get(), 0);
  if (result == SQLITE_DONE) return 0;
  throw_sqlite_error(db, path, std::string("cannot read ") + sql);
}

}  // namespace nmscope::store
