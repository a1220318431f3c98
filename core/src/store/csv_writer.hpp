#pragma once
// An RFC 4180 CSV file written atomically: rows go to "<path>.tmp", which replaces <path> only once it is complete,
// so a reader never sees half a report and a failed export leaves the old one in place. The path "-" is stdout.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "nmscope/measurement.hpp"

namespace nmscope::store {

// The cell as written: a text that a spreadsheet would run as a formula (leading = + - @ TAB CR) gets a leading
// apostrophe, and a cell holding , " CR or LF is quoted with inner quotes doubled.
std::string csv_text_cell(std::string_view text);
// Shortest text that parses back to the same double ("inf", "-inf"; NaN gives an empty cell).
std::string csv_number_cell(double value);

class CsvWriter {
 public:
  // Throws Error(path, reason) when the temporary file cannot be created.
  explicit CsvWriter(std::string path);
  // Removes the temporary file unless commit() succeeded.
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // Numbers are never neutralized: "-0.5" must stay a number, only text cells can carry a formula.
  void text(std::string_view value);
  void number(double value);
  void integer(int64_t value);
  void empty();
  void end_row();

  // Flushes, syncs and renames the temporary file onto the path; throws Error(path, reason) on failure.
  void commit();

 private:
  void cell(std::string_view encoded);
  void fail(const std::string& what);
  bool writes_stdout() const { return path_ == "-"; }

  std::string path_;
  std::string temporary_path_;
  std::FILE* file_ = nullptr;
  std::string row_;
  bool row_started_ = false;
  bool committed_ = false;
};

// The header row (measurement_columns()) and one measurement as a row, shared by every CSV export.
void write_csv_header(CsvWriter& csv);
void write_csv_row(CsvWriter& csv, const Measurement& row);

}  // namespace nmscope::store
