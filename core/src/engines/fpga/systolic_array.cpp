// Shapes, fold plan and the analytic cycle model of the N:M systolic array. The model counts the controller's
// windows (rtl/src/nm_controller.sv, rtl/README.md "Timeline"):
//   window before fold 0:  P(-1) = max(T(0), X)            X = max(rows, cols) + 1
//   window of fold f:      P(f)  = max(T(f), T(f+1), X)
//   last fold f = F-1 starts at W = P(-1) + P(0) + ... + P(F-2); its channel tile drains T tokens from
//   W + T + rows + 1 on, and the run ends two cycles after the last token leaves (kRunOverhead), or one cycle after
//   the last window (length max(T, X)) when that is later: only when cols > 2 T + rows + 1.
#include "nmscope/fpga/systolic_array.hpp"

#include <algorithm>
#include <charconv>

#include "engines/fpga/systolic_data.hpp"
#include "nmscope/error.hpp"
#include "nmscope/text_list.hpp"

namespace nmscope::fpga {

namespace {
// Cycles outside the windows: the controller's priming cycle and the registered output after the last drain.
constexpr int64_t kRunOverhead = 2;

int parse_dimension(const std::string& text, const std::string& whole) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw SettingError(Setting::ArraySize, "'" + whole + "' is not ROWSxCOLS (e.g. 16x16)");
  if (value < kMinArrayDim || value > kMaxArrayDim)
    throw SettingError(Setting::ArraySize, "'" + whole + "': rows and columns must be in [" +
                                               std::to_string(kMinArrayDim) + ", " + std::to_string(kMaxArrayDim) +
                                               "]");
  return value;
}
}  // namespace

std::string ArraySize::to_string() const { return std::to_string(rows) + "x" + std::to_string(cols); }

ArraySize parse_array_size(const std::string& text) {
  const size_t x = text.find('x');
  if (x == std::string::npos) throw SettingError(Setting::ArraySize, "'" + text + "' is not ROWSxCOLS (e.g. 16x16)");
  return {parse_dimension(text.substr(0, x), text), parse_dimension(text.substr(x + 1), text)};
}

std::vector<ArraySize> parse_array_sizes(const std::string& list) {
  std::vector<ArraySize> sizes;
  for (const std::string& item : comma_items(list)) {
    const ArraySize size = parse_array_size(item);
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) sizes.push_back(size);
  }
  return sizes;
}

std::string unsupported_reason(const GemmShape& shape, ArraySize array) {
  if (shape.m > kMaxGroupSize)
    return "group size M=" + std::to_string(shape.m) + " exceeds the array's MaxM of " + std::to_string(kMaxGroupSize);
  if (shape.n > array.rows)
    return "N=" + std::to_string(shape.n) + " kept per group needs at least that many array rows (" +
           array.to_string() + ")";
  // A scale group's integer sum must fit the 32-bit accumulators: columns x max |code - z| x 127 < 2^31.
  const int64_t group_columns = shape.quant_group > 0 ? std::min<int64_t>(shape.quant_group, shape.in_features)
                                                      : shape.in_features;
  if (group_columns * (int64_t(1) << shape.bits) * 127 >= (int64_t(1) << 31))
    return std::to_string(group_columns) + " columns under one scale at " + std::to_string(shape.bits) +
           " bits could overflow the array's 32-bit integer sums; use a quantization group";
  if (shape.quant_group > 0 && shape.quant_group % shape.m != 0)
    return "quantization group " + std::to_string(shape.quant_group) + " is not a multiple of M=" +
           std::to_string(shape.m) + ": a group of M would straddle two scales";
  return {};
}

FoldPlan plan_folds(const GemmShape& shape, ArraySize array) {
  FoldPlan plan;
  const int64_t groups = (shape.in_features + shape.m - 1) / shape.m;
  plan.slots_per_row = groups * shape.n;
  plan.chunk_slots = shape.quant_group > 0 ? int64_t(shape.quant_group / shape.m) * shape.n : plan.slots_per_row;
  plan.rows_per_fold = int64_t(array.rows / shape.n) * shape.n;
  plan.channel_tiles = (shape.out_channels + array.cols - 1) / array.cols;
  plan.chunk_folds = (plan.chunk_slots + plan.rows_per_fold - 1) / plan.rows_per_fold;
  for (int64_t chunk = 0; chunk < plan.slots_per_row; chunk += plan.chunk_slots) {
    const int64_t chunk_end = std::min(chunk + plan.chunk_slots, plan.slots_per_row);
    for (int64_t begin = chunk; begin < chunk_end; begin += plan.rows_per_fold)
      plan.folds.push_back({begin, std::min(begin + plan.rows_per_fold, chunk_end)});
  }
  return plan;
}

TokenTiling token_tiling(int64_t tokens, int token_depth) {
  TokenTiling tiling;
  if (tokens <= 0) return tiling;
  tiling.tile_tokens = int(std::min<int64_t>(tokens, token_depth));
  const int64_t tail = tokens % tiling.tile_tokens;
  tiling.first_tile_tokens = tail == 0 ? tiling.tile_tokens : int(tail);
  tiling.tiles = 1 + (tokens - tiling.first_tile_tokens) / tiling.tile_tokens;
  return tiling;
}

CycleEstimate model_cycles(const GemmShape& shape, ArraySize array, int token_depth) {
  CycleEstimate estimate;
  if (shape.tokens <= 0 || shape.out_channels <= 0 || shape.in_features <= 0) return estimate;
  const FoldPlan plan = plan_folds(shape, array);
  const TokenTiling tiling = token_tiling(shape.tokens, token_depth);
  const int64_t per_tile = plan.channel_tiles * plan.k_folds();
  const int64_t x = std::max(array.rows, array.cols) + 1;
  auto tokens_of = [&](int64_t tile) -> int64_t { return tile == 0 ? tiling.first_tile_tokens : tiling.tile_tokens; };

  int64_t last_start = std::max(tokens_of(0), x);
  for (int64_t tile = 0; tile < tiling.tiles; ++tile) {
    const int64_t t = tokens_of(tile);
    last_start += (per_tile - 1) * std::max(t, x);
    if (tile + 1 < tiling.tiles) last_start += std::max({t, tokens_of(tile + 1), x});
  }
  const int64_t last_tokens = tokens_of(tiling.tiles - 1);
  estimate.cycles = last_start + std::max(2 * last_tokens + array.rows + 1 + kRunOverhead, std::max(last_tokens, x) + 1);

  const int64_t whole_groups = shape.in_features / shape.m;
  const int64_t tail_columns = shape.in_features % shape.m;
  const int64_t kept_per_row = whole_groups * shape.n + std::min<int64_t>(shape.n, tail_columns);
  estimate.useful_macs = shape.tokens * shape.out_channels * kept_per_row;
  estimate.utilization = double(estimate.useful_macs) / (double(array.rows) * array.cols * double(estimate.cycles));
  estimate.folds = per_tile * tiling.tiles;
  return estimate;
}

}  // namespace nmscope::fpga
