#include "measurement_json.hpp"

#include <cmath>

namespace nmscope::cli {

namespace {

// JSON has no infinity or NaN (an exact reconstruction has sqnr = +inf): those become null.
nlohmann::json number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr); }

template <typename T>
nlohmann::json optional(const std::optional<T>& value) {
  if (!value) return nullptr;
  if constexpr (std::is_floating_point_v<T>) return number(*value);
  else return *value;
}

}  // namespace

nlohmann::json measurement_to_json(const Measurement& m) {
  nlohmann::json row = {
      {"study_id", m.study_id},
      {"source", m.source},
      {"source_hash", m.source_hash},
      {"tensor", m.tensor},
      {"shape", {m.rows, m.cols}},
      {"pattern", m.pattern.to_string()},
      {"bits", m.quant.bits},
      {"granularity", m.quant.granularity_name()},
      {"symmetric", m.quant.symmetric},
      {"criterion", m.criterion},
      {"engine", m.engine},
      {"batch", m.batch > 0 ? nlohmann::json(m.batch) : nlohmann::json(nullptr)},
      {"storage_bytes", m.storage_bytes},
      {"compression_vs_fp16", number(m.compression_vs_fp16)},
      {"weight_rel_err", number(m.weight_rel_err)},
      {"output_rel_err", number(m.output_rel_err)},
      {"sqnr_db", number(m.sqnr_db)},
      {"status", m.status},
  };
  if (m.time_us) {
    row["time_us"] = optional(m.time_us);
    row["time_p10_us"] = optional(m.time_p10_us);
    row["time_p90_us"] = optional(m.time_p90_us);
  }
  if (m.cycles) row["cycles"] = *m.cycles;
  if (m.engine_rel_err) row["engine_rel_err"] = optional(m.engine_rel_err);
  if (!m.note.empty()) row["note"] = m.note;
  if (!m.details_json.empty() && m.details_json != "{}")
    row["details"] = nlohmann::json::parse(m.details_json, nullptr, false);
  return row;
}

}  // namespace nmscope::cli
