#pragma once
// The results database's schema: what a database must look like before the store touches it, and the forward
// migrations that bring an older nmscope database up to this build's version.
//
// Identity: PRAGMA application_id = ResultsStore::kApplicationId ("NMSC") marks a file as ours, and
// PRAGMA user_version is the schema version. Version 0 means "no schema yet" and is accepted only for a database
// without tables (a new or empty file). Anything else that is not ours is refused before a single byte is written.
#include <sqlite3.h>

#include <span>
#include <string>

namespace nmscope::store {

struct Migration {
  int from_version;  // applies to a database at this version and leaves it at from_version + 1
  const char* sql;   // one or more statements; never edited once released, a change is a new migration
};

// This build's forward list: element k takes schema k to k + 1, so its size is ResultsStore::kSchemaVersion.
std::span<const Migration> schema_migrations();

// "<db>.v<version>.bak": the copy written before a database at that version is migrated.
std::string backup_path(const std::string& path, int version);

// Checks that db is an nmscope database (or an empty one) at most at the version the list reaches, backs it up when
// it holds an older schema, then applies the missing migrations in one transaction. Throws Error(path, reason) and
// leaves the file untouched when the database is foreign, newer or unreadable.
void prepare_schema(sqlite3* db, const std::string& path, std::span<const Migration> migrations);

}  // namespace nmscope::store
