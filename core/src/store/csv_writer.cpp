#include "store/csv_writer.hpp"

#include <type_traits>

#include "nmscope/measurement_fields.hpp"
#include "nmscope/results_store.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "nmscope/error.hpp"

namespace nmscope::store {

std::string csv_text_cell(std::string_view text) {
  std::string cell;
  // Tensor and model names come from files the user downloaded: a name like "=HYPERLINK(...)" must stay text.
  if (!text.empty() && std::strchr("=+-@\t\r", text.front()) != nullptr) cell += '\'';
  cell += text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string csv_number_cell(double value) {
  if (std::isnan(value)) return {};
  char text[32];
  // to_chars without a precision gives the shortest representation that round-trips exactly.
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

CsvWriter::CsvWriter(std::string path) : path_(std::move(path)), temporary_path_(path_ + ".tmp") {
  if (writes_stdout()) {
    file_ = stdout;
    return;
  }
  file_ = std::fopen(temporary_path_.c_str(), "wb");
  if (!file_) throw Error(path_, std::string("cannot write ") + temporary_path_ + ": " + std::strerror(errno));
}

CsvWriter::~CsvWriter() {
  if (writes_stdout()) return;
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(temporary_path_.c_str());
}

void CsvWriter::cell(std::string_view encoded) {
  if (row_started_) row_ += ',';
  row_ += encoded;
  row_started_ = true;
}

void CsvWriter::text(std::string_view value) { cell(csv_text_cell(value)); }
void CsvWriter::number(double value) { cell(csv_number_cell(value)); }
void CsvWriter::empty() { cell({}); }

void CsvWriter::integer(int64_t value) {
  char text[24];
  const auto result = std::to_chars(text, text + sizeof text, value);
  cell(std::string_view(text, static_cast<std::size_t>(result.ptr - text)));
}

void CsvWriter::end_row() {
  row_ += "\r\n";
  if (std::fwrite(row_.data(), 1, row_.size(), file_) != row_.size()) fail("cannot write");
  row_.clear();
  row_started_ = false;
}

void CsvWriter::fail(const std::string& what) { throw Error(path_, what + ": " + std::strerror(errno)); }

void CsvWriter::commit() {
  if (writes_stdout()) {
    if (std::fflush(stdout) != 0) fail("cannot write");
    committed_ = true;
    return;
  }
  // The rename must not publish a file whose bytes are still only in the page cache.
  if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) fail("cannot write");
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail("cannot write");
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) fail("cannot replace");
  committed_ = true;
}

void write_csv_header(CsvWriter& csv) {
  for (const std::string& column : measurement_columns()) csv.text(column);
  csv.end_row();
}

void write_csv_row(CsvWriter& csv, const Measurement& row) {
  for_each_field(row, [&](const char*, const auto& value) {
    using Field = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<Field, std::string>) {
      csv.text(value);
    } else if constexpr (std::is_same_v<Field, double>) {
      csv.number(value);
    } else if constexpr (std::is_same_v<Field, std::optional<double>>) {
      value ? csv.number(*value) : csv.empty();
    } else if constexpr (std::is_same_v<Field, std::optional<int64_t>>) {
      value ? csv.integer(*value) : csv.empty();
    } else {
      static_assert(std::is_integral_v<Field>, "every Measurement field needs a CSV cell kind");
      csv.integer(static_cast<int64_t>(value));
    }
  });
  csv.end_row();
}

}  // namespace nmscope::store
