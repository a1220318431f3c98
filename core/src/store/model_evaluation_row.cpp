// Column list, binding and reading of model_evaluations rows; one table of (column, field) pairs drives all three so
// they cannot disagree on the order.
#include "store/model_evaluation_row.hpp"

#include <cmath>
#include <functional>
#include <vector>

namespace nmscope::store {

namespace {

using Record = ModelEvaluationRecord;

struct Column {
  const char* name;
  std::function<int(sqlite3_stmt*, int, const Record&)> bind;
  std::function<void(sqlite3_stmt*, int, Record&)> read;
};

Column text(const char* name, std::string Record::*field) {
  return {name,
          [field](sqlite3_stmt* s, int i, const Record& r) {
            const std::string& value = r.*field;
            return sqlite3_bind_text(s, i, value.data(), int(value.size()), SQLITE_TRANSIENT);
          },
          [field](sqlite3_stmt* s, int i, Record& r) {
            const auto* value = sqlite3_column_text(s, i);
            r.*field = value ? reinterpret_cast<const char*>(value) : "";
          }};
}

template <typename Int>
Column integer(const char* name, Int Record::*field) {
  return {name,
          [field](sqlite3_stmt* s, int i, const Record& r) { return sqlite3_bind_int64(s, i, int64_t(r.*field)); },
          [field](sqlite3_stmt* s, int i, Record& r) { r.*field = Int(sqlite3_column_int64(s, i)); }};
}

// NaN is stored as NULL (SQLite has no NaN) and read back as NaN.
Column real(const char* name, double Record::*field) {
  return {name,
          [field](sqlite3_stmt* s, int i, const Record& r) {
            return std::isnan(r.*field) ? sqlite3_bind_null(s, i) : sqlite3_bind_double(s, i, r.*field);
          },
          [field](sqlite3_stmt* s, int i, Record& r) {
            r.*field = sqlite3_column_type(s, i) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s, i);
          }};
}

const std::vector<Column>& columns() {
  static const std::vector<Column> list = {
      text("study_id", &Record::study_id),
      text("created_at", &Record::created_at),
      text("model", &Record::model),
      text("model_type", &Record::model_type),
      text("family", &Record::family),
      text("pattern", &Record::pattern),
      integer("bits", &Record::bits),
      text("granularity", &Record::granularity),
      integer("quant_group", &Record::quant_group),
      integer("symmetric", &Record::symmetric),
      text("criterion", &Record::criterion),
      text("quantizer", &Record::quantizer),
      text("calibration", &Record::calibration),
      text("evaluation", &Record::evaluation),
      integer("eval_sequences", &Record::eval_sequences),
      integer("eval_tokens", &Record::eval_tokens),
      integer("storage_bytes", &Record::storage_bytes),
      integer("weight_count", &Record::weight_count),
      real("bits_per_weight", &Record::bits_per_weight),
      real("dense_perplexity", &Record::dense_perplexity),
      real("perplexity", &Record::perplexity),
      real("mean_kl", &Record::mean_kl),
      real("top1_agreement", &Record::top1_agreement),
      real("mean_cosine", &Record::mean_cosine),
      real("seconds", &Record::seconds),
      text("note", &Record::note),
      text("host", &Record::host),
      text("build", &Record::build),
  };
  return list;
}

std::string column_list() {
  std::string text;
  for (const auto& column : columns()) text += std::string(text.empty() ? "" : ", ") + column.name;
  return text;
}

}  // namespace

const std::string& model_evaluation_insert_sql() {
  static const std::string sql = [] {
    std::string placeholders;
    for (size_t index = 0; index < columns().size(); ++index) placeholders += index ? ", ?" : "?";
    return "INSERT INTO model_evaluations (" + column_list() + ") VALUES (" + placeholders + ")";
  }();
  return sql;
}

const std::string& model_evaluation_select_sql() {
  static const std::string sql = "SELECT " + column_list() + " FROM model_evaluations";
  return sql;
}

int bind_model_evaluation(sqlite3_stmt* statement, const ModelEvaluationRecord& record) {
  for (size_t index = 0; index < columns().size(); ++index) {
    const int result = columns()[index].bind(statement, int(index) + 1, record);
    if (result != SQLITE_OK) return result;
  }
  return SQLITE_OK;
}

ModelEvaluationRecord read_model_evaluation(sqlite3_stmt* statement) {
  ModelEvaluationRecord record;
  for (size_t index = 0; index < columns().size(); ++index) columns()[index].read(statement, int(index), record);
  return record;
}

}  // namespace nmscope::store
