#pragma once
// A ModelEvaluationRecord as one row of the model_evaluations table (schema version 2).
#include <sqlite3.h>

#include <string>

#include "nmscope/model_records.hpp"

namespace nmscope::store {

const std::string& model_evaluation_insert_sql();
const std::string& model_evaluation_select_sql();  // the caller appends WHERE / ORDER BY
int bind_model_evaluation(sqlite3_stmt* statement, const ModelEvaluationRecord& record);
ModelEvaluationRecord read_model_evaluation(sqlite3_stmt* statement);

}  // namespace nmscope::store
