#include "quant/kernel_view.hpp"

namespace nmscope {

kernels::PackedWeightsView kernel_view(const PackedMatrix& packed) {
  kernels::PackedWeightsView view;
  view.rows = packed.rows;
  view.cols = packed.cols;
  view.kept_per_group = packed.pattern.kept_per_group;
  view.group_size = packed.pattern.group_size;
  view.bits = packed.quant.bits;
  view.metadata_bits = packed.pattern.metadata_bits();
  view.slots_per_row = packed.slots_per_row;
  view.value_row_bytes = packed.value_row_bytes;
  view.metadata_row_bytes = packed.metadata_row_bytes;
  view.values = packed.values.data();
  view.metadata = packed.metadata.empty() ? nullptr : packed.metadata.data();
  view.scales = packed.scales.data();
  view.scale_rows = packed.scale_rows;
  view.scales_per_row = packed.scales_per_row;
  view.quant_group = packed.quant.granularity == Granularity::Group ? packed.quant.group : 0;
  view.zero_points = packed.quant.symmetric ? nullptr : packed.zero_points.data();
  return view;
}

}  // namespace nmscope
