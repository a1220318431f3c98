// describe_configuration (measurement.hpp): a row's configuration fields, from the packed matrix itself.
#include "nmscope/measurement.hpp"
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

void describe_configuration(Measurement& row, const PackedMatrix& packed) {
  row.rows = packed.rows;
  row.cols = packed.cols;
  row.pattern = packed.pattern.to_string();
  row.kept_per_group = packed.pattern.kept_per_group;
  row.group_size = packed.pattern.group_size;
  row.bits = packed.quant.bits;
  row.granularity = packed.quant.granularity_name();
  row.quant_group = !packed.quant.is_fp16() && packed.quant.granularity == Granularity::Group ? packed.quant.group : 0;
  row.symmetric = packed.quant.symmetric;
  row.storage_bytes = packed.storage_bytes();
  row.compression_vs_fp16 = packed.compression_vs_fp16();
}

}  // namespace nmscope
