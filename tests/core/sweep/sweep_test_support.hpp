#pragma once
// Shared by the sweep suites: a small synthetic sweep spec written to disk, and raw SQLite access to check or damage
// a database behind the store's back.
#include <sqlite3.h>

#include <QFile>
#include <QString>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

namespace sweep_test {

// 2 tensors x 2 patterns x 2 bit widths x 2 engines x 2 batches = 32 points, a few seconds in all.
inline std::string small_spec(const std::string& seed = "3") {
  return R"({
  "sources": ["synth:32x64+48x64:seed=)" +
         seed + R"("],
  "patterns": ["dense", "2:4"],
  "bits": [8, 4],
  "group": 32,
  "engines": ["cpu/eigen-fp32-dense", "fpga/systolic-8x8"],
  "arrays": ["8x8"],
  "batches": [1, 2],
  "timing_seconds": 0.001
})";
}
constexpr int kSmallSpecPoints = 32;

inline void write_file(const QString& path, const std::string& text) {
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly)) throw std::runtime_error("cannot write " + path.toStdString());
  file.write(text.data(), qint64(text.size()));
}

class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
  }
  ~RawDatabase() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string reason = message ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(reason + " in " + sql);
    }
  }
  long long integer(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr);
    long long value = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    sqlite3_finalize(statement);
    return value;
  }
  // Every row's measurement key with its host: (source, hash, tensor, pattern, bits, granularity, criterion, engine,
  // batch) as one string, so two databases can be compared as sets.
  std::multiset<std::string> keys() {
    std::multiset<std::string> result;
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(
        db_,
        "SELECT source || '|' || source_hash || '|' || tensor || '|' || pattern || '|' || bits || '|' || "
        "granularity || '|' || symmetric || '|' || criterion || '|' || engine || '|' || batch "
        "FROM measurements",
        -1, &statement, nullptr);
    while (sqlite3_step(statement) == SQLITE_ROW)
      result.insert(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
    sqlite3_finalize(statement);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sweep_test
