#pragma once
// The one list of Measurement's fields, in declaration order. The column list, the INSERT and SELECT statements and
// the CSV export are all derived from it, so a field added to Measurement is added here once (and a migration adds
// its column; tests/core/store checks that the table and this list agree).
#include "nmscope/measurement.hpp"

namespace nmscope {

// Calls visit(name, field) for every field; works on const and mutable measurements alike.
template <class MeasurementRef, class Visitor>
void for_each_field(MeasurementRef& m, Visitor&& visit) {
  visit("study_id", m.study_id);
  visit("created_at", m.created_at);
  visit("source", m.source);
  visit("source_hash", m.source_hash);
  visit("tensor", m.tensor);
  visit("rows", m.rows);
  visit("cols", m.cols);
  visit("pattern", m.pattern);
  visit("kept_per_group", m.kept_per_group);
  visit("group_size", m.group_size);
  visit("bits", m.bits);
  visit("granularity", m.granularity);
  visit("quant_group", m.quant_group);
  visit("symmetric", m.symmetric);
  visit("criterion", m.criterion);
  visit("engine", m.engine);
  visit("batch", m.batch);
  visit("storage_bytes", m.storage_bytes);
  visit("compression_vs_fp16", m.compression_vs_fp16);
  visit("weight_rel_err", m.weight_rel_err);
  visit("output_rel_err", m.output_rel_err);
  visit("sqnr_db", m.sqnr_db);
  visit("time_us", m.time_us);
  visit("time_p10_us", m.time_p10_us);
  visit("time_p90_us", m.time_p90_us);
  visit("cycles", m.cycles);
  visit("engine_rel_err", m.engine_rel_err);
  visit("status", m.status);
  visit("note", m.note);
  visit("details_json", m.details_json);
  visit("host", m.host);
  visit("build", m.build);
}

}  // namespace nmscope
