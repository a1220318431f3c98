#include "store/sqlite_statement.hpp"

#include <system_error>

#include "nmscope/error.hpp"

namespace nmscope::store {

std::string last_error(sqlite3* db) {
  const char* message = db ? sqlite3_errmsg(db) : nullptr;
  if (!message) return "out of memory";
  // "disk I/O error" alone does not tell a full disk (EFBIG, ENOSPC, EDQUOT) from a failing one (EIO).
  const int primary = sqlite3_errcode(db) & 0xff;
  const int system_error = sqlite3_system_errno(db);
  if (system_error != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
                            primary == SQLITE_READONLY))
    return std::string(message) + " (" + std::error_code(system_error, std::generic_category()).message() + ")";
  // SQLite keeps no errno for a failed write (EFBIG, ENOSPC that it did not classify as SQLITE_FULL, EIO).
  if (sqlite3_extended_errcode(db) == SQLITE_IOERR_WRITE)
    return std::string(message) + " (a write failed: disk full, file size limit or device error)";
  return message;
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
