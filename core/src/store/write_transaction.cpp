#include "store/write_transaction.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "nmscope/error.hpp"
#include "store/sqlite_statement.hpp"

namespace nmscope::store {

namespace {

// Each attempt already waited up to busy_timeout inside SQLite, so a handful of attempts is plenty.
constexpr int kMaxAttempts = 20;

void roll_back_if_open(sqlite3* db) {
  // A failed COMMIT after an I/O error may already have rolled back; ROLLBACK then only adds a spurious error.
  if (!sqlite3_get_autocommit(db)) exec(db, "ROLLBACK");
}

void back_off(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * (attempt + 1), 100)));
}

}  // namespace

void run_write_transaction(sqlite3* db, const std::string& path, const std::string& context,
                           const std::function<int()>& body) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    int result = exec(db, "BEGIN IMMEDIATE");
    if (is_busy(result)) {
      back_off(attempt);
      continue;
    }
    if (result != SQLITE_OK) throw_sqlite_error(db, path, context);

    try {
      result = body();
    } catch (...) {
      roll_back_if_open(db);
      throw;
    }
    if (result == SQLITE_OK) result = exec(db, "COMMIT");
    if (result == SQLITE_OK) return;

    // ROLLBACK overwrites SQLite's message, so keep the one that explains the failure.
    const std::string reason = last_error(db);
    roll_back_if_open(db);
    if (is_busy(result)) {
      back_off(attempt);
      continue;
    }
    throw Error(path, context + ": " + reason);
  }
  throw Error(path, context + ": database is locked by another writer (gave up after " +
                        std::to_string(kMaxAttempts) + " attempts)");
}

}  // namespace nmscope::store
