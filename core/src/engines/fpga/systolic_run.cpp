// The DMA's side of a run and the bit-exact reference. Every layout here is the one rtl/README.md ("Memories")
// documents and rtl/src/nm_weight_buffer.sv / nm_activation_buffer.sv store; slots are read from the packed
// format of docs/packed-format.md with the same bit-string helpers as the CPU kernels.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engines/fpga/systolic_data.hpp"
#include "nmscope/kernels/bit_string.hpp"
#include "nmscope/kernels/fp16.hpp"
#include "nmscope/rtl/accel_layout.hpp"

namespace nmscope::fpga {

TokenActivations quantize_per_token(const float* x, int64_t tokens, int64_t cols) {
  TokenActivations out;
  out.tokens = tokens;
  out.cols = cols;
  out.values.resize(size_t(tokens * cols));
  out.scales.resize(size_t(tokens));
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = x + t * cols;
    float absmax = 0;
    for (int64_t c = 0; c < cols; ++c) absmax = std::max(absmax, std::fabs(row[c]));
    // A scale below the normal range would be flushed to zero by the array (rtl/README.md, "Dequantization"):
    // such a token is zero for the array, and is quantized as zero here.
    const float scale = absmax / 127.0f < std::numeric_limits<float>::min() ? 0.0f : absmax / 127.0f;
    out.scales[size_t(t)] = scale;
    for (int64_t c = 0; c < cols; ++c) {
      const float q = scale > 0 ? std::nearbyint(row[c] / scale) : 0.0f;
      out.values[size_t(t * cols + c)] = int8_t(std::clamp(q, -127.0f, 127.0f));
    }
  }
  return out;
}

GemmShape gemm_shape(const kernels::PackedWeightsView& weights, int64_t tokens) {
  GemmShape shape;
  shape.out_channels = weights.rows;
  shape.in_features = weights.cols;
  shape.n = weights.kept_per_group;
  shape.m = weights.group_size;
  shape.quant_group = weights.quant_group;
  shape.bits = weights.bits;
  shape.asymmetric = weights.zero_points != nullptr;
  shape.tokens = tokens;
  return shape;
}

SystolicRun::SystolicRun(const kernels::PackedWeightsView& weights, const TokenActivations& activations,
                         ArraySize array, int token_depth)
    : weights_(weights), activations_(activations), array_(array) {
  const GemmShape shape = gemm_shape(weights, activations.tokens);
  plan_ = plan_folds(shape, array);
  tiling_ = token_tiling(activations.tokens, token_depth);
  registers_.n = shape.n;
  registers_.m = shape.m;
  registers_.bits = weights.bits;
  registers_.tokens = activations.tokens;
  registers_.tile_tokens = tiling_.tile_tokens;
  registers_.first_tile_tokens = tiling_.first_tile_tokens;
  registers_.channel_tiles = plan_.channel_tiles;
  registers_.k_folds = plan_.k_folds();
  registers_.chunk_folds = plan_.chunk_folds;
  registers_.asymmetric = shape.asymmetric;
  registers_.fold_rows = plan_.rows_per_fold;
  registers_.chunk_slots = plan_.chunk_slots;
  registers_.row_slots = plan_.slots_per_row;
  registers_.lane_slots = plan_.lane_slots;
}

int64_t SystolicRun::folds() const { return tiling_.tiles * plan_.channel_tiles * plan_.k_folds(); }

SystolicRun::FoldIndex SystolicRun::locate(int64_t fold) const {
  const int64_t per_tile = plan_.channel_tiles * plan_.k_folds();
  const int64_t tile = fold / per_tile;
  const int64_t within = fold % per_tile;
  FoldIndex index;
  index.token_base = tile == 0 ? 0 : tiling_.first_tile_tokens + (tile - 1) * tiling_.tile_tokens;
  index.tokens = tile == 0 ? tiling_.first_tile_tokens : tiling_.tile_tokens;
  index.channel_tile = within / plan_.k_folds();
  index.k = within % plan_.k_folds();
  return index;
}

int SystolicRun::tokens_of(int64_t fold) const { return locate(fold).tokens; }

// The scale of the group holding `slot`: the one of the slot's group's first column.
int64_t SystolicRun::scale_of_slot(int64_t channel, int64_t slot) const {
  return weights_.scale_index(channel, slot / weights_.kept_per_group * weights_.group_size);
}

namespace {
// Appends LSB-first fields to a byte string (the fold stream's bit order, docs/packed-format.md).
class BitAppender {
 public:
  explicit BitAppender(std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  void append(uint32_t value, int bits) {
    pending_ |= uint64_t(value & ((1u << bits) - 1)) << pending_bits_;
    pending_bits_ += bits;
    while (pending_bits_ >= 8) {
      bytes_.push_back(uint8_t(pending_));
      pending_ >>= 8;
      pending_bits_ -= 8;
    }
  }
  // Pads with zero bits to whole beats of the port.
  void finish(int beat_bytes) {
    if (pending_bits_ > 0) append(0, 8 - pending_bits_);
    bytes_.resize((bytes_.size() + size_t(beat_bytes) - 1) / size_t(beat_bytes) * size_t(beat_bytes), 0);
  }

 private:
  std::vector<uint8_t>& bytes_;
  uint64_t pending_ = 0;
  int pending_bits_ = 0;
};
}  // namespace

std::vector<uint8_t> SystolicRun::weight_stream(int64_t fold) const {
  const FoldIndex index = locate(fold);
  const FoldPlan::Fold& span = plan_.folds[size_t(index.k)];
  const GemmShape shape = gemm_shape(weights_, activations_.tokens);
  const bool asymmetric = weights_.zero_points != nullptr;
  const int meta_bits = fold_stream_position_bits(shape);
  std::vector<uint8_t> bytes;
  bytes.reserve(size_t((fold_stream_bits(shape, array_, plan_, index.k) + 7) / 8 + rtl::accel_pkg::kPortBytes));
  BitAppender stream(bytes);
  // Header (first fold of a scale group): per column, the fp16 scale, then the zero point (asymmetric only); a fold
  // of two scale groups carries the second group's header right after the first's.
  auto header = [&](int64_t first_slot) {
    for (int c = 0; c < array_.cols; ++c) {
      const int64_t channel = index.channel_tile * array_.cols + c;
      const bool real = channel < weights_.rows;
      const int64_t scale = real ? scale_of_slot(channel, first_slot) : 0;
      stream.append(real ? weights_.scales[scale] : 0, 16);
      if (asymmetric) stream.append(real ? uint32_t(weights_.zero_point(scale)) : 0, 8);
    }
  };
  if (index.k % plan_.chunk_folds == 0) header(span.slot_begin);
  if (plan_.lane_slots > 0 && span.slot_end - span.slot_begin > plan_.lane_slots)
    header(span.slot_begin + plan_.lane_slots);
  // Rows: slot r of the fold for every column, the code then its position (none when N = M).
  for (int64_t slot = span.slot_begin; slot < span.slot_end; ++slot) {
    for (int c = 0; c < array_.cols; ++c) {
      const int64_t channel = index.channel_tile * array_.cols + c;
      if (channel < weights_.rows) {
        const uint8_t* values = weights_.values + channel * weights_.value_row_bytes;
        stream.append(read_bits(values, slot, weights_.bits), weights_.bits);
        if (meta_bits > 0) stream.append(uint32_t(weights_.position_of(channel, slot)), meta_bits);
      } else {
        // A column past the last channel: code = z, so its weight is zero.
        stream.append(asymmetric ? 0 : 1u << (weights_.bits - 1), weights_.bits);
        if (meta_bits > 0) stream.append(0, meta_bits);
      }
    }
  }
  stream.finish(rtl::accel_pkg::kPortBytes);
  return bytes;
}

void SystolicRun::activation_word(int64_t fold, int token, int8_t* vectors, float* scale) const {
  const FoldIndex index = locate(fold);
  const FoldPlan::Fold& span = plan_.folds[size_t(index.k)];
  const int64_t t = index.token_base + token;
  const int8_t* row = activations_.values.data() + t * activations_.cols;
  const int64_t first_group = span.slot_begin / weights_.kept_per_group;
  const int64_t groups = (span.slot_end - span.slot_begin) / weights_.kept_per_group;
  std::memset(vectors, 0, size_t(array_.rows) * kMaxGroupSize);
  for (int64_t g = 0; g < groups; ++g)
    for (int p = 0; p < weights_.group_size; ++p) {
      const int64_t column = (first_group + g) * weights_.group_size + p;
      if (column < activations_.cols) vectors[g * kMaxGroupSize + p] = row[column];
    }
  *scale = activations_.scales[size_t(t)];
}

// Per channel n and token t, scale group by scale group in K order, exactly as nm_column_accumulator.sv rounds:
//   acc = (first group ? +0 : acc) + float(sum of (code - z) * q over the group's folds) * scale;   y = acc * s_token
// Compiled with -ffp-contract=off (core/CMakeLists.txt): a fused multiply-add would round once, the RTL twice.
namespace {
// The array's fp32 units flush subnormal results to zero, keeping the sign.
float flush_subnormal(float value) {
  return std::fpclassify(value) == FP_SUBNORMAL ? std::copysign(0.0f, value) : value;
}
}  // namespace

std::vector<float> SystolicRun::reference_output() const {
  const int64_t tokens = activations_.tokens;
  std::vector<float> y(size_t(tokens * weights_.rows));
  std::vector<int32_t> weight(size_t(plan_.slots_per_row));
  std::vector<int64_t> column(size_t(plan_.slots_per_row));
  for (int64_t n = 0; n < weights_.rows; ++n) {
    const uint8_t* values = weights_.values + n * weights_.value_row_bytes;
    for (int64_t s = 0; s < plan_.slots_per_row; ++s) column[size_t(s)] = weights_.column_of(n, s);
    // Scale group by scale group in K order (however the folds cut them: one group over several folds, or two
    // groups in one fold, the integer sums are the same).
    const int64_t groups = (plan_.slots_per_row + plan_.group_slots - 1) / plan_.group_slots;
    std::vector<float> scales(static_cast<size_t>(groups));
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t index = scale_of_slot(n, g * plan_.group_slots);
      scales[size_t(g)] = fp16_bits_to_float_exact(weights_.scales[index]);
      for (int64_t s = g * plan_.group_slots; s < std::min((g + 1) * plan_.group_slots, plan_.slots_per_row); ++s)
        weight[size_t(s)] = int32_t(read_bits(values, s, weights_.bits)) - weights_.zero_point(index);
    }
    for (int64_t t = 0; t < tokens; ++t) {
      const int8_t* row = activations_.values.data() + t * activations_.cols;
      float acc = 0;
      for (int64_t g = 0; g < groups; ++g) {
        int32_t sum = 0;
        for (int64_t s = g * plan_.group_slots; s < std::min((g + 1) * plan_.group_slots, plan_.slots_per_row); ++s)
          if (column[size_t(s)] < activations_.cols) sum += weight[size_t(s)] * int32_t(row[column[size_t(s)]]);
        const float scaled = flush_subnormal(float(sum) * scales[size_t(g)]);
        acc = flush_subnormal((g == 0 ? 0.0f : acc) + scaled);
      }
      y[size_t(t * weights_.rows + n)] = flush_subnormal(acc * activations_.scales[size_t(t)]);
    }
  }
  return y;
}

}  // namespace nmscope::fpga
