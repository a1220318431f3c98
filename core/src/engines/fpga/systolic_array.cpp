// Shapes, fold plan and the analytic cycle model of the N:M systolic array. The model counts the controller's
// windows (rtl/src/nm_controller.sv, rtl/README.md "Timeline" and "Memory port"):
//   window before fold 0:  P(-1) = max(T(0), X, Ls + 1 + LoadTail)        X = max(rows, cols) + 1
//   window of fold f:      P(f)  = max(T(f), T(f+1), X, Ls + 1 + LoadTail)
//   Ls = max(cols - 3, D): the loader starts once fold f+1's stream is in (D: the window cycle of its last beat,
//   from the memory port's rule, rtl/sim/include/nmscope/rtl/memory_port.hpp), LoadTail = max(3, rows - cols + 3);
//   last fold f = F-1 starts at W = P(-1) + P(0) + ... + P(F-2); its channel tile drains T tokens from
//   W + T + rows + 1 on, and the run ends two cycles after the last token leaves (kRunOverhead), or one cycle after
//   the last window (length max(T, X)) when that is later: only when cols > 2 T + rows + 1.
#include "nmscope/fpga/systolic_array.hpp"

#include <algorithm>
#include <charconv>

#include "engines/fpga/systolic_data.hpp"
#include "nmscope/error.hpp"
#include "nmscope/rtl/memory_port.hpp"
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
  plan.group_slots = shape.quant_group > 0 ? int64_t(shape.quant_group / shape.m) * shape.n : plan.slots_per_row;
  plan.chunk_slots = plan.group_slots;
  plan.rows_per_fold = int64_t(array.rows / shape.n) * shape.n;
  // Two scale groups fill the rows exactly (each half of them) and the row has more than one: a fold takes two, each
  // column keeping their sums apart, instead of leaving half the rows idle.
  if (2 * plan.group_slots == array.rows && plan.rows_per_fold == array.rows && plan.group_slots < plan.slots_per_row) {
    plan.lane_slots = plan.group_slots;
    plan.chunk_slots = 2 * plan.group_slots;
    plan.rows_per_fold = plan.chunk_slots;
  }
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

int port_bytes() { return rtl::accel_pkg::kPortBytes; }

int fold_stream_position_bits(const GemmShape& shape) {
  return shape.n == shape.m ? 0 : shape.m > 4 ? 3 : shape.m > 2 ? 2 : 1;
}

int64_t fold_stream_bits(const GemmShape& shape, ArraySize array, const FoldPlan& plan, int64_t k) {
  const FoldPlan::Fold& fold = plan.folds[size_t(k)];
  const int meta_bits = fold_stream_position_bits(shape);
  const bool header = k % plan.chunk_folds == 0;
  const bool second = plan.lane_slots > 0 && fold.slot_end - fold.slot_begin > plan.lane_slots;
  const int64_t header_bits = int64_t(array.cols) * (shape.asymmetric ? 24 : 16);
  return (header ? header_bits : 0) + (second ? header_bits : 0) +
         (fold.slot_end - fold.slot_begin) * array.cols * (shape.bits + meta_bits);
}

int64_t fold_stream_beats(const GemmShape& shape, ArraySize array, const FoldPlan& plan, int64_t k) {
  const int64_t beat_bits = int64_t(rtl::accel_pkg::kBeatW);
  return (fold_stream_bits(shape, array, plan, k) + beat_bits - 1) / beat_bits;
}

namespace {

// When the last of `beats` beats arrives, counting from cycle `start` of a window in which the array is ready from
// its first cycle on, and the credit left after the cycle that delivered it: the closed form of rtl::MemoryPort.
// `credit` is the port's credit before cycle `start`.
struct Arrival {
  int64_t last_beat_cycle = 0;  // absolute
  int64_t credit_after = 0;
};
Arrival fold_stream_arrival(int64_t start, int64_t beats, int64_t credit, MemoryTiming memory) {
  const int64_t beat = int64_t(port_bytes()) * rtl::kBandwidthOne;
  const int64_t rate = memory.bytes_per_cycle_q16 > 0 ? memory.bytes_per_cycle_q16 : beat;
  const int64_t first = std::max(start, memory.latency_cycles);
  if (first > start) credit = 0;  // nothing accrues before the latency has passed
  Arrival arrival;
  if (rate >= beat) {  // a beat every cycle the array is ready
    arrival.last_beat_cycle = first + beats - 1;
    arrival.credit_after = 2 * beat;
    return arrival;
  }
  // Credit after the first cycle's growth; below one beat per cycle the cap binds only then, so beat j (1-based)
  // arrives at the first t >= j - 1 with credit + t * rate >= j * beat.
  const int64_t initial = std::min(credit + rate, 2 * beat);
  const int64_t needed = beats * beat - initial;
  const int64_t t = std::max(beats - 1, needed <= 0 ? int64_t(0) : (needed + rate - 1) / rate);
  arrival.last_beat_cycle = first + t;
  arrival.credit_after = initial + t * rate - beats * beat;
  return arrival;
}

// The credit after `idle` more cycles of growth.
int64_t credit_after_idle(int64_t credit, int64_t idle, MemoryTiming memory) {
  const int64_t beat = int64_t(port_bytes()) * rtl::kBandwidthOne;
  const int64_t rate = memory.bytes_per_cycle_q16 > 0 ? memory.bytes_per_cycle_q16 : beat;
  if (idle <= 0) return credit;
  if (idle >= 2 * beat / std::max<int64_t>(rate, 1) + 1) return 2 * beat;
  return std::min(credit + idle * rate, 2 * beat);
}

}  // namespace

CycleEstimate model_cycles(const GemmShape& shape, ArraySize array, int token_depth, MemoryTiming memory) {
  CycleEstimate estimate;
  if (shape.tokens <= 0 || shape.out_channels <= 0 || shape.in_features <= 0) return estimate;
  const FoldPlan plan = plan_folds(shape, array);
  const TokenTiling tiling = token_tiling(shape.tokens, token_depth);
  const int64_t per_tile = plan.channel_tiles * plan.k_folds();
  const int64_t x = std::max(array.rows, array.cols) + 1;
  // A fold of two scale groups has two headers: the loader takes one cycle more.
  const int64_t load_tail = std::max(3, array.rows - array.cols + 3) + (plan.lane_slots > 0 ? 1 : 0);
  const int64_t loader_earliest = array.cols - 3;
  auto tokens_of = [&](int64_t tile) -> int64_t { return tile == 0 ? tiling.first_tile_tokens : tiling.tile_tokens; };
  std::vector<int64_t> beats(size_t(plan.k_folds()));
  int64_t tile_beats = 0;
  for (int64_t k = 0; k < plan.k_folds(); ++k) {
    beats[size_t(k)] = fold_stream_beats(shape, array, plan, k);
    tile_beats += beats[size_t(k)];
  }
  tile_beats *= plan.channel_tiles;
  const int64_t last_tokens = tokens_of(tiling.tiles - 1);
  auto run_end = [&](int64_t last_start) {
    return last_start + std::max(2 * last_tokens + array.rows + 1 + kRunOverhead, std::max(last_tokens, x) + 1);
  };

  // The array's own schedule: every window at its static length (a port that never makes the loader wait). A
  // window that loads a fold lasts at least until its loader's tail: X, or one cycle more with two headers.
  const int64_t x_load = std::max(x, loader_earliest + 1 + load_tail);
  int64_t compute_start = std::max(tokens_of(0), x_load);
  for (int64_t tile = 0; tile < tiling.tiles; ++tile) {
    const int64_t t = tokens_of(tile);
    compute_start += (per_tile - 1) * std::max(t, x_load);
    if (tile + 1 < tiling.tiles) compute_start += std::max({t, tokens_of(tile + 1), x_load});
  }
  estimate.compute_cycles = run_end(compute_start);

  // With the memory: window by window (the run's cycle 0 is the controller's priming cycle; window -1 starts at 1).
  int64_t start = 1;
  // The credit grows from cycle `latency` on: with no latency, the priming cycle already adds to it.
  int64_t credit = memory.latency_cycles == 0 ? credit_after_idle(0, 1, memory) : 0;
  int64_t current_tokens = 0;  // window -1 streams no tokens
  // When even the longest fold stream, from an empty credit, is in before the loader's earliest start, only the
  // first window (which waits out the latency) can differ from the array's own schedule.
  const int64_t longest = *std::max_element(beats.begin(), beats.end());
  const bool never_waits =
      fold_stream_arrival(memory.latency_cycles, longest, 0, memory).last_beat_cycle - memory.latency_cycles <=
      loader_earliest;
  for (int64_t tile = 0; tile < tiling.tiles; ++tile) {
    if (never_waits && tile == 0) {
      const Arrival arrival = fold_stream_arrival(start, beats[0], credit, memory);
      const int64_t loader_start = std::max(loader_earliest, arrival.last_beat_cycle - start);
      const int64_t first_window = std::max({tokens_of(0), x, loader_start + 1 + load_tail});
      start = 1 + compute_start + (first_window - std::max(tokens_of(0), x_load));
      break;
    }
    for (int64_t index = 0; index < per_tile; ++index) {
      // This window fetches fold (tile, index); it is the window of the fold before it.
      const int64_t next_tokens = tokens_of(tile);
      const Arrival arrival = fold_stream_arrival(start, beats[size_t(index % plan.k_folds())], credit, memory);
      const int64_t loader_start = std::max(loader_earliest, arrival.last_beat_cycle - start);
      const int64_t length = std::max({current_tokens, next_tokens, x, loader_start + 1 + load_tail});
      credit = credit_after_idle(arrival.credit_after, start + length - arrival.last_beat_cycle - 1, memory);
      start += length;
      current_tokens = next_tokens;
    }
  }
  estimate.cycles = run_end(start - 1);
  estimate.stall_cycles = estimate.cycles - estimate.compute_cycles;

  estimate.weight_bytes = tile_beats * tiling.tiles * port_bytes();
  const int64_t rate =
      memory.bytes_per_cycle_q16 > 0 ? memory.bytes_per_cycle_q16 : int64_t(port_bytes()) * rtl::kBandwidthOne;
  const int64_t port_rate = std::min(rate, int64_t(port_bytes()) * rtl::kBandwidthOne);
  estimate.fetch_cycles =
      memory.latency_cycles + (estimate.weight_bytes * rtl::kBandwidthOne + port_rate - 1) / port_rate;
  estimate.activation_bytes = shape.tokens * (shape.in_features + 4);
  estimate.memory_bound = estimate.fetch_cycles > estimate.compute_cycles;

  const int64_t whole_groups = shape.in_features / shape.m;
  const int64_t tail_columns = shape.in_features % shape.m;
  const int64_t kept_per_row = whole_groups * shape.n + std::min<int64_t>(shape.n, tail_columns);
  estimate.useful_macs = shape.tokens * shape.out_channels * kept_per_row;
  estimate.utilization = double(estimate.useful_macs) / (double(array.rows) * array.cols * double(estimate.cycles));
  estimate.folds = per_tile * tiling.tiles;
  return estimate;
}

}  // namespace nmscope::fpga
