#pragma once
// A ModelRollupRow as one row of the model_rollups table (schema version 3).
#include <sqlite3.h>

#include <string>

#include "nmscope/model_records.hpp"

namespace nmscope::store {

const std::string& model_rollup_insert_sql();
const std::string& model_rollup_select_sql();  // the caller appends WHERE / ORDER BY
int bind_model_rollup(sqlite3_stmt* statement, const ModelRollupRow& record);
ModelRollupRow read_model_rollup(sqlite3_stmt* statement);

}  // namespace nmscope::store
