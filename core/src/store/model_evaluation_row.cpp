// Column list, binding and reading of model_evaluations rows (store/record_columns.hpp).
#include "store/model_evaluation_row.hpp"

#include <vector>

#include "store/configuration_column.hpp"
#include "store/record_columns.hpp"

namespace nmscope::store {

namespace {

using Record = ModelEvaluationRecord;
using Column = RecordColumn<Record>;
constexpr auto text = text_column<Record>;
constexpr auto real = real_column<Record>;
template <typename Int>
Column integer(const char* name, Int Record::*field) {
  return integer_column(name, field);
}

const std::vector<Column>& columns() {
  static const std::vector<Column> list = {
      text("study_id", &Record::study_id),
      text("created_at", &Record::created_at),
      text("model", &Record::model),
      text("model_type", &Record::model_type),
      text("family", &Record::family),
      configuration_column(&Record::pattern, &Record::quant),
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

}  // namespace

const std::string& model_evaluation_insert_sql() {
  static const std::string sql = insert_sql("model_evaluations", columns());
  return sql;
}

const std::string& model_evaluation_select_sql() {
  static const std::string sql = "SELECT " + column_list(columns()) + " FROM model_evaluations";
  return sql;
}

int bind_model_evaluation(sqlite3_stmt* statement, const ModelEvaluationRecord& record) {
  return bind_record(statement, columns(), record);
}

ModelEvaluationRecord read_model_evaluation(sqlite3_stmt* statement) { return read_record(statement, columns()); }

}  // namespace nmscope::store
