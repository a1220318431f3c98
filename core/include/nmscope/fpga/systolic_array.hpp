#pragma once
// The FPGA engine's systolic array seen from software (rtl/README.md): array shapes, how a GEMM is cut into folds,
// and the analytic cycle model, which returns the RTL's cycle count exactly (tests/rtl pin this) in microseconds
// instead of minutes: sweeps and the GUI's sliders use it, the Verilated RTL confirms it.
#include <cstdint>
#include <string>
#include <vector>

namespace nmscope::fpga {

constexpr int kMinArrayDim = 4;
constexpr int kMaxArrayDim = 64;
constexpr double kDefaultClockMhz = 250.0;

struct ArraySize {
  int rows = 16;  // slots of a fold (the K direction)
  int cols = 16;  // output channels of a tile
  std::string to_string() const;  // "16x16"
  bool operator==(const ArraySize&) const = default;
};

// "16x16", rows and cols in [4, 64]; throws SettingError(Setting::ArraySize, reason).
ArraySize parse_array_size(const std::string& text);
// "16x16,32x32"
std::vector<ArraySize> parse_array_sizes(const std::string& list);

// What the array needs to know about a GEMM y = x W^T, W = [out_channels, in_features] packed N:M.
struct GemmShape {
  int64_t out_channels = 0;
  int64_t in_features = 0;
  int n = 1;               // kept per group
  int m = 1;               // group size
  int quant_group = 0;     // columns per weight scale; 0 = one scale per channel (or per tensor)
  int bits = 8;            // weight bits: bound the integer sum of a scale group
  bool asymmetric = false;  // zero points travel with the scales
  int64_t tokens = 1;      // batch
};

// The memory behind the array's port (rtl/README.md, "Memory port"): sustained bandwidth and latency. Presets and
// where their numbers come from: docs/fpga-memory.md.
struct MemorySystem {
  std::string name;                 // "ddr4-2400", or the bandwidth as typed ("12.5")
  double gigabytes_per_second = 0;  // sustained; 0: unlimited (a beat of the port every cycle)
  double latency_ns = 0;
  std::string to_string() const;  // "ddr4-2400 (19.2 GB/s, 73 ns)"
  bool operator==(const MemorySystem&) const = default;
};
// ddr4-2400, ddr4-3200, hbm2, lpddr4, unlimited.
const std::vector<MemorySystem>& memory_presets();
MemorySystem default_memory_system();  // ddr4-2400
// A preset's name or a sustained bandwidth in GB/s (latency then 100 ns); throws SettingError(Setting::FpgaMemory).
MemorySystem parse_memory_system(const std::string& text);

// The memory in the array's cycles at its clock (rtl::PortTiming's numbers: bandwidth in bytes per cycle times 2^16).
struct MemoryTiming {
  int64_t latency_cycles = 0;
  int64_t bytes_per_cycle_q16 = 0;  // 0: unlimited
};
MemoryTiming memory_timing(const MemorySystem& memory, double clock_mhz);
// Bytes the port moves per cycle at most (nm_accel_pkg's PortBytes).
int port_bytes();

// Empty when the array can run this GEMM, else why not (one line). With in_features = 0 only the pattern and the
// quantization are checked (what an engine's supports() knows before it sees a matrix).
std::string unsupported_reason(const GemmShape& shape, ArraySize array);

// Folds along K: each holds up to rows_per_fold consecutive slots of every channel, all under one weight scale
// (a fold never crosses a quantization group, so its integer sum takes one scale; rtl/README.md, "Folds") -- or,
// when two scale groups fit the array's rows (1:8 at g128 on 32 rows), exactly two of them, whose sums the columns
// keep apart (rtl/README.md, "Two scale groups per fold"): then chunk_slots spans both and lane_slots is one.
struct FoldPlan {
  int64_t slots_per_row = 0;     // ceil(K / M) * N
  int64_t chunk_slots = 0;       // slots the folds are cut by: one scale group, or two (lane_slots > 0)
  int64_t group_slots = 0;       // slots under one scale
  int64_t lane_slots = 0;        // two groups per fold: the first group's slots (= group_slots); else 0
  int64_t rows_per_fold = 0;     // floor(rows / N) * N
  int64_t channel_tiles = 0;     // ceil(out_channels / cols)
  struct Fold {
    int64_t slot_begin = 0;
    int64_t slot_end = 0;
  };
  int64_t chunk_folds = 0;       // folds per scale group (the last group may have fewer)
  std::vector<Fold> folds;       // the k folds, the same for every channel tile
  int64_t k_folds() const { return int64_t(folds.size()); }
};
FoldPlan plan_folds(const GemmShape& shape, ArraySize array);

// Token tiles: the tail tile (tokens % depth) first, then full tiles of `depth` (rtl/README.md, "Folds").
struct TokenTiling {
  int tile_tokens = 0;
  int first_tile_tokens = 0;
  int64_t tiles = 0;
};
TokenTiling token_tiling(int64_t tokens, int token_depth);

struct CycleEstimate {
  int64_t cycles = 0;
  int64_t compute_cycles = 0;    // the same run with a port that never waits (the array's own schedule)
  int64_t stall_cycles = 0;      // cycles - compute_cycles: windows the memory stretched, and its latency
  int64_t fetch_cycles = 0;      // the port alone: latency + weight bytes / bandwidth
  int64_t weight_bytes = 0;      // through the port: every fold stream, padded to whole beats, per token tile
  int64_t activation_bytes = 0;  // int8 activations and fp32 token scales, read once from the on-chip store
  bool memory_bound = false;     // fetch_cycles > compute_cycles: the memory roof is the lower one
  int64_t useful_macs = 0;       // tokens x out_channels x weights kept in real columns
  double utilization = 0;        // useful_macs / (rows x cols x cycles)
  int64_t folds = 0;             // over the whole run
};
// Cycles of the RTL for this GEMM with activation/accumulator banks of `token_depth` tokens, its weights streamed
// through the memory port from `memory`.
CycleEstimate model_cycles(const GemmShape& shape, ArraySize array, int token_depth, MemoryTiming memory = {});

// Bits a slot's position takes in the fold stream: ceil(log2 M), none when N = M (docs/packed-format.md's mb).
int fold_stream_position_bits(const GemmShape& shape);
// Bits of fold k's stream (docs/packed-format.md, "The FPGA array's fold stream") and its whole beats.
int64_t fold_stream_bits(const GemmShape& shape, ArraySize array, const FoldPlan& plan, int64_t k);
int64_t fold_stream_beats(const GemmShape& shape, ArraySize array, const FoldPlan& plan, int64_t k);

}  // namespace nmscope::fpga
