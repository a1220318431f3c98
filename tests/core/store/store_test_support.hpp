#pragma once
// Shared by the store's tests: sample measurements, an independent field-by-field comparison, and raw SQLite access
// to inspect (or tamper with) a database behind the store's back.
#include <sqlite3.h>

#include <QFile>
#include <QString>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "nmscope/measurement.hpp"

namespace store_test {

inline nmscope::Measurement sample_measurement(int index, const std::string& study = "study-a") {
  nmscope::Measurement m;
  m.study_id = study;
  m.created_at = "2026-01-02T03:04:" + std::to_string(10 + index % 50) + "Z";
  m.source = "/models/llama \"7b\", v2/model.safetensors";
  m.source_hash = "a1b2c3d4e5f6" + std::to_string(index);
  m.tensor = "model.layers." + std::to_string(index) + ".mlp.down_proj.weight — ünïcödé ✓";
  m.rows = 11008 + index;
  m.cols = 4096;
  m.pattern = {2, 4};
  m.quant = {4, nmscope::Granularity::Group, 128, index % 2 == 0};
  m.criterion = "wanda";
  m.engine = "cpu/int4-nm";
  m.batch = 16;
  m.storage_bytes = (int64_t{1} << 40) + index;  // beyond 32 bits on purpose
  m.compression_vs_fp16 = 4.0 / 3.0;
  m.weight_rel_err = 0.1 + index * 1e-17;
  m.output_rel_err = 1e-300;
  m.sqnr_db = -20.0 * std::log10(0.1);
  if (index % 3 != 0) {
    m.time_us = 12.345678901234567;
    m.time_p10_us = 11.0;
    m.time_p90_us = 13.5;
    m.cycles = 123456789012LL;
    m.engine_rel_err = 2.5e-7;
  }
  m.status = index % 3 == 0 ? "unavailable" : "ok";
  m.note = index % 3 == 0 ? "no GPU: CUDA driver not found" : "";
  m.details_json = R"({"tile":"16x16","split_k":2})";
  m.host = "bench-01 | AMD EPYC 9654 | 96 cores";
  m.build = "nmscope 0.1.0 (git abc123) GNU 12.2.0 Release";
  return m;
}

inline bool same_double(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

template <class T>
bool same_optional(const std::optional<T>& a, const std::optional<T>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if constexpr (std::is_same_v<T, double>) return same_double(*a, *b);
  return *a == *b;
}

// Empty when equal, else the names of the fields that differ. Deliberately independent of the store's field list.
inline QString differences(const nmscope::Measurement& a, const nmscope::Measurement& b) {
  QString diff;
  auto check = [&](const char* name, bool equal) {
    if (!equal) diff += QString(name) + ' ';
  };
  check("study_id", a.study_id == b.study_id);
  check("created_at", a.created_at == b.created_at);
  check("source", a.source == b.source);
  check("source_hash", a.source_hash == b.source_hash);
  check("tensor", a.tensor == b.tensor);
  check("rows", a.rows == b.rows);
  check("cols", a.cols == b.cols);
  check("pattern", a.pattern == b.pattern);
  check("kept_per_group", a.pattern.kept_per_group == b.pattern.kept_per_group);
  check("group_size", a.pattern.group_size == b.pattern.group_size);
  check("bits", a.quant.bits == b.quant.bits);
  check("granularity", a.quant.granularity_name() == b.quant.granularity_name());
  check("quant_group", a.quant.group == b.quant.group);
  check("symmetric", a.quant.symmetric == b.quant.symmetric);
  check("criterion", a.criterion == b.criterion);
  check("engine", a.engine == b.engine);
  check("batch", a.batch == b.batch);
  check("storage_bytes", a.storage_bytes == b.storage_bytes);
  check("compression_vs_fp16", same_double(a.compression_vs_fp16, b.compression_vs_fp16));
  check("weight_rel_err", same_double(a.weight_rel_err, b.weight_rel_err));
  check("output_rel_err", same_double(a.output_rel_err, b.output_rel_err));
  check("sqnr_db", same_double(a.sqnr_db, b.sqnr_db));
  check("time_us", same_optional(a.time_us, b.time_us));
  check("time_p10_us", same_optional(a.time_p10_us, b.time_p10_us));
  check("time_p90_us", same_optional(a.time_p90_us, b.time_p90_us));
  check("cycles", same_optional(a.cycles, b.cycles));
  check("engine_rel_err", same_optional(a.engine_rel_err, b.engine_rel_err));
  check("status", a.status == b.status);
  check("note", a.note == b.note);
  check("details_json", a.details_json == b.details_json);
  check("host", a.host == b.host);
  check("build", a.build == b.build);
  return diff;
}

// A raw connection to a database file, for checks and tampering that the store must not be able to do itself.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path);
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }

  // The first column of the first row as text ("" for NULL or no row).
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    std::string value;
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return value;
  }

  long long integer(const std::string& sql) { return std::stoll(text(sql)); }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

inline QByteArray file_bytes(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return file.readAll();
}

}  // namespace store_test
