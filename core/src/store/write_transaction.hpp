#pragma once
// One write transaction (BEGIN IMMEDIATE ... COMMIT) that survives other connections writing the same file.
// busy_timeout already waits for the lock inside SQLite; the retry here covers what the busy handler does not see
// (SQLITE_LOCKED, a COMMIT that finds readers mid-checkpoint), so concurrent writers never lose a row or report
// "database is locked" while the other side is making progress.
#include <sqlite3.h>

#include <functional>
#include <string>

namespace nmscope::store {

// Runs body inside BEGIN IMMEDIATE ... COMMIT. body returns SQLITE_OK or the result code of the step that failed
// (it may also throw). A busy or locked failure rolls back and runs body again, a bounded number of times; any other
// failure rolls back and throws Error(path, context + ": " + SQLite's message), leaving the database as it was.
void run_write_transaction(sqlite3* db, const std::string& path, const std::string& context,
                           const std::function<int()>& body);

}  // namespace nmscope::store
