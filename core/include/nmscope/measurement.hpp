#pragma once
// One row of the results database: a (tensor, configuration, engine variant, batch) measurement with everything
// needed to interpret it months later. Field meanings follow docs/conventions.md.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

struct Measurement {
  // provenance
  std::string study_id;        // groups the rows of one `run` invocation
  std::string created_at;      // ISO-8601 UTC, set by the store on insert when empty
  std::string source;          // file, directory or synth spec as the user named it
  std::string source_hash;     // hex content hash of the tensor's stored bytes
  std::string tensor;
  int64_t rows = 0;            // N_out
  int64_t cols = 0;            // K
  // configuration, typed; the database and CSV spell it in the columns pattern, kept_per_group, group_size, bits,
  // granularity ("group:128", "channel", "tensor", "none" for fp16), quant_group and symmetric (store/, csv)
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant = QuantConfig::fp16();
  std::string criterion;       // "magnitude", "wanda", ...
  std::string engine;          // variant name, or "none"
  int batch = 0;               // 0 when no engine ran
  // accuracy and storage
  int64_t storage_bytes = 0;
  double compression_vs_fp16 = 0;
  double weight_rel_err = 0;
  double output_rel_err = 0;
  double sqnr_db = 0;
  // engine figures (absent for engine "none" or an unavailable engine)
  std::optional<double> time_us;       // median
  std::optional<double> time_p10_us;
  std::optional<double> time_p90_us;
  std::optional<int64_t> cycles;
  std::optional<double> engine_rel_err;  // engine output vs the double-precision reference of the same weights
  std::string status = "ok";   // "ok", "unavailable", "failed"
  std::string note;            // reason for a non-ok status, or engine remarks
  std::string details_json;    // engine-specific figures as a JSON object ("{}" when none)
  // where it ran
  std::string host;
  std::string build;
};

struct PackedMatrix;
// Fills the row's shape, configuration and storage fields from the packed matrix it measures (one place for every
// producer of rows: the study runner, model studies).
void describe_configuration(Measurement& row, const PackedMatrix& packed);

// What makes two rows the same measurement across runs: the tensor (where it came from and its content), the
// configuration, the engine variant and the batch. The figures, the study, host and build are not part of it, so a
// resumed study measures exactly the keys the database does not hold yet.
struct MeasurementKey {
  std::string source;
  std::string source_hash;
  std::string tensor;
  NMPattern pattern;
  QuantConfig quant;  // canonical(): fields that do not apply are cleared
  std::string criterion;
  std::string engine;
  int batch = 0;

  auto operator<=>(const MeasurementKey&) const = default;

  static MeasurementKey of(const Measurement& m) {
    return {m.source, m.source_hash, m.tensor, m.pattern, m.quant.canonical(), m.criterion, m.engine, m.batch};
  }
};

}  // namespace nmscope
