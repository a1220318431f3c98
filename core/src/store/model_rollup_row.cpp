// Column list, binding and reading of model_rollups rows (store/record_columns.hpp).
#include "store/model_rollup_row.hpp"

#include <vector>

#include "store/configuration_column.hpp"
#include "store/record_columns.hpp"

namespace nmscope::store {

namespace {

using Record = ModelRollupRow;
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
      text("source", &Record::source),
      configuration_column(&Record::pattern, &Record::quant),
      text("criterion", &Record::criterion),
      text("engine", &Record::engine),
      integer("batch", &Record::batch),
      text("role", &Record::role),
      integer("layers", &Record::layers),
      integer("weight_count", &Record::weight_count),
      integer("storage_bytes", &Record::storage_bytes),
      integer("fp16_bytes", &Record::fp16_bytes),
      real("compression_vs_fp16", &Record::compression_vs_fp16),
      real("mean_weight_rel_err", &Record::mean_weight_rel_err),
      real("max_weight_rel_err", &Record::max_weight_rel_err),
      real("mean_output_rel_err", &Record::mean_output_rel_err),
      real("max_output_rel_err", &Record::max_output_rel_err),
      real("min_sqnr_db", &Record::min_sqnr_db),
      real("time_us", &Record::time_us),
      real("time_per_token_us", &Record::time_per_token_us),
      text("baseline", &Record::baseline),
      real("baseline_time_per_token_us", &Record::baseline_time_per_token_us),
      real("speedup", &Record::speedup),
      integer("shapes_timed", &Record::shapes_timed),
      integer("layers_timed", &Record::layers_timed),
      text("note", &Record::note),
  };
  return list;
}

}  // namespace

const std::string& model_rollup_insert_sql() {
  static const std::string sql = insert_sql("model_rollups", columns());
  return sql;
}

const std::string& model_rollup_select_sql() {
  static const std::string sql = "SELECT " + column_list(columns()) + " FROM model_rollups";
  return sql;
}

int bind_model_rollup(sqlite3_stmt* statement, const ModelRollupRow& record) {
  return bind_record(statement, columns(), record);
}

ModelRollupRow read_model_rollup(sqlite3_stmt* statement) { return read_record(statement, columns()); }

}  // namespace nmscope::store
