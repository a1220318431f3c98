#pragma once
// A record's typed configuration (NMPattern + QuantConfig) as the model tables spell it in five columns: pattern
// ("dense" or "N:M"), bits, granularity ("group:128", "channel", "tensor", "none" for fp16), quant_group (g for
// group scales, else 0) and symmetric, as docs/conventions.md names them for every table.
#include <sqlite3.h>

#include <string>

#include "nmscope/error.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"
#include "store/record_columns.hpp"

namespace nmscope::store {

template <typename Record>
RecordColumn<Record> configuration_column(NMPattern Record::*pattern, QuantConfig Record::*quant) {
  return {{"pattern", "bits", "granularity", "quant_group", "symmetric"},
          [pattern, quant](sqlite3_stmt* s, int i, const Record& r) {
            const std::string pattern_name = (r.*pattern).to_string();
            const QuantConfig& q = r.*quant;
            const std::string granularity = q.granularity_name();
            int result = sqlite3_bind_text(s, i, pattern_name.data(), int(pattern_name.size()), SQLITE_TRANSIENT);
            if (result == SQLITE_OK) result = sqlite3_bind_int64(s, i + 1, q.bits);
            if (result == SQLITE_OK)
              result = sqlite3_bind_text(s, i + 2, granularity.data(), int(granularity.size()), SQLITE_TRANSIENT);
            if (result == SQLITE_OK)
              result = sqlite3_bind_int64(s, i + 3, !q.is_fp16() && q.granularity == Granularity::Group ? q.group : 0);
            if (result == SQLITE_OK) result = sqlite3_bind_int64(s, i + 4, q.symmetric ? 1 : 0);
            return result;
          },
          [pattern, quant](sqlite3_stmt* s, int i, Record& r) {
            auto text = [s](int column) {
              const auto* value = sqlite3_column_text(s, column);
              return std::string(value ? reinterpret_cast<const char*>(value) : "");
            };
            const int bits = int(sqlite3_column_int64(s, i + 1));
            const bool symmetric = sqlite3_column_int64(s, i + 4) != 0;
            // A name this build cannot read (a newer writer's) leaves the field's default: dense, or fp16 with the
            // row's bits, as Measurement rows do (measurement_fields.hpp).
            try {
              r.*pattern = NMPattern::parse(text(i));
            } catch (const Error&) {
              r.*pattern = NMPattern::dense();
            }
            try {
              r.*quant = QuantConfig::from_names(bits, text(i + 2), symmetric).canonical();
            } catch (const Error&) {
              r.*quant = QuantConfig::fp16();
              (r.*quant).bits = bits;
              (r.*quant).symmetric = symmetric;
            }
          }};
}

}  // namespace nmscope::store
