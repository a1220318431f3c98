// describe_configuration (measurement.hpp): a row's configuration fields, from the packed matrix itself.
#include "nmscope/error.hpp"
#include "nmscope/measurement.hpp"
#include "nmscope/measurement_fields.hpp"
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

void describe_configuration(Measurement& row, const PackedMatrix& packed) {
  row.rows = packed.rows;
  row.cols = packed.cols;
  row.pattern = packed.pattern;
  row.quant = packed.quant.canonical();
  row.storage_bytes = packed.storage_bytes();
  row.compression_vs_fp16 = packed.compression_vs_fp16();
}

ConfigurationColumns ConfigurationColumns::of(const Measurement& m) {
  ConfigurationColumns columns;
  columns.pattern = m.pattern.to_string();
  columns.kept_per_group = m.pattern.kept_per_group;
  columns.group_size = m.pattern.group_size;
  columns.bits = m.quant.bits;
  columns.granularity = m.quant.granularity_name();
  columns.quant_group = !m.quant.is_fp16() && m.quant.granularity == Granularity::Group ? m.quant.group : 0;
  columns.symmetric = m.quant.symmetric;
  return columns;
}

void ConfigurationColumns::apply_to(Measurement& m) const {
  m.pattern = NMPattern{kept_per_group, group_size};
  try {
    m.quant = QuantConfig::from_names(bits, granularity, symmetric).canonical();
  } catch (const Error&) {
    m.quant = QuantConfig::fp16();
    m.quant.bits = bits;
    m.quant.symmetric = symmetric;
  }
}

}  // namespace nmscope
