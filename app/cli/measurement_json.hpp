#pragma once
// The JSON form of a measurement printed by `run --json` (one object per line); keys equal the database columns.
#include <nlohmann/json.hpp>

#include "nmscope/measurement.hpp"

namespace nmscope::cli {

nlohmann::json measurement_to_json(const Measurement& measurement);

}  // namespace nmscope::cli
