#pragma once
// The one list of Measurement's fields, in declaration order. The column list, the INSERT and SELECT statements and
// the CSV export are all derived from it, so a field added to Measurement is added here once (and a migration adds
// its column; tests/core/store checks that the table and this list agree).
#include <string>
#include <type_traits>

#include "nmscope/measurement.hpp"

namespace nmscope {

// A row's pattern and quantization as its columns spell them (docs/conventions.md).
struct ConfigurationColumns {
  std::string pattern;     // "dense" or "N:M"
  int kept_per_group = 1;  // N (1 for dense)
  int group_size = 1;      // M (1 for dense)
  int bits = 16;
  std::string granularity = "none";  // "group:128", "channel", "tensor", or "none" for fp16
  int quant_group = 0;               // g for group granularity, else 0
  bool symmetric = true;

  static ConfigurationColumns of(const Measurement& m);
  // Back into the typed fields; a granularity this build cannot read leaves the row's fp16 default and its bits.
  void apply_to(Measurement& m) const;
};

// Calls visit(name, field) for every field; works on const and mutable measurements alike.
template <class MeasurementRef, class Visitor>
void for_each_field(MeasurementRef& m, Visitor&& visit) {
  // The typed configuration is spelled in seven columns: filled from the row when writing, read into the row after.
  constexpr bool reading = !std::is_const_v<MeasurementRef>;
  ConfigurationColumns columns = reading ? ConfigurationColumns{} : ConfigurationColumns::of(m);
  visit("study_id", m.study_id);
  visit("created_at", m.created_at);
  visit("source", m.source);
  visit("source_hash", m.source_hash);
  visit("tensor", m.tensor);
  visit("rows", m.rows);
  visit("cols", m.cols);
  visit("pattern", columns.pattern);
  visit("kept_per_group", columns.kept_per_group);
  visit("group_size", columns.group_size);
  visit("bits", columns.bits);
  visit("granularity", columns.granularity);
  visit("quant_group", columns.quant_group);
  visit("symmetric", columns.symmetric);
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
  if constexpr (reading) columns.apply_to(m);
}

}  // namespace nmscope
