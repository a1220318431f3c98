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
  int64_t tokens = 1;      // batch
};

// Empty when the array can run this GEMM, else why not (one line). With in_features = 0 only the pattern and the
// quantization are checked (what an engine's supports() knows before it sees a matrix).
std::string unsupported_reason(const GemmShape& shape, ArraySize array);

// Folds along K: each holds up to rows_per_fold consecutive slots of every channel, all under one weight scale
// (a fold never crosses a quantization group, so its integer sum takes one scale; rtl/README.md, "Folds").
struct FoldPlan {
  int64_t slots_per_row = 0;     // ceil(K / M) * N
  int64_t chunk_slots = 0;       // slots under one scale
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
  int64_t useful_macs = 0;       // tokens x out_channels x weights kept in real columns
  double utilization = 0;        // useful_macs / (rows x cols x cycles)
  int64_t folds = 0;             // over the whole run
};
// Cycles of the RTL for this GEMM with activation/accumulator banks of `token_depth` tokens.
CycleEstimate model_cycles(const GemmShape& shape, ArraySize array, int token_depth);

}  // namespace nmscope::fpga
