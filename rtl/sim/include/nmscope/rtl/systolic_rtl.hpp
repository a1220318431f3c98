#pragma once
// Runs whole GEMMs through the Verilated N:M systolic array (rtl/src/nm_accel.sv). The harness plays the memory
// behind the array's port (MemoryPort: latency and sustained bandwidth) and the on-chip activation store: it takes
// each fold's weight stream and token vectors from a FoldStreams, and hands every finished output row to an
// OutputSink. No Verilator type appears here, so core can use it freely.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/rtl/memory_port.hpp"

namespace nmscope::rtl {

struct ArrayShape {
  int rows = 0;
  int cols = 0;
  bool operator==(const ArrayShape&) const = default;
};

// Array shapes Verilated into this build (empty when Verilator was not found at configure time).
std::vector<ArrayShape> simulated_shapes();
bool is_simulated(ArrayShape shape);
// Memory depth of the simulated arrays: tokens per activation / accumulator bank (nm_accel's TokenDepth).
int simulated_token_depth();

// The accelerator's run-time registers (rtl/README.md, "Parameters and registers").
struct RunRegisters {
  int n = 1, m = 1, bits = 8;
  bool asymmetric = false;  // zero points travel in the fold streams' headers
  int64_t tokens = 0;
  int tile_tokens = 0;        // <= simulated_token_depth()
  int first_tile_tokens = 0;  // the tail tile, streamed first
  int64_t channel_tiles = 0;
  int64_t k_folds = 0;
  int64_t chunk_folds = 0;    // folds per scale group: their integer sums are added before one dequantization
  int64_t fold_rows = 0;      // slots of a full fold, floor(rows / N) * N
  int64_t chunk_slots = 0;    // slots under one scale
  int64_t row_slots = 0;      // slots of a weight row
  int64_t lane_slots = 0;     // two scale groups per fold: the first group's slots; else 0
};

// Fold f of the run (tiles in the controller's order: token tile, channel tile, fold along K).
class FoldStreams {
 public:
  virtual ~FoldStreams() = default;
  virtual int tokens_of(int64_t fold) const = 0;
  // The weight stream of fold `fold` as the memory holds it (docs/packed-format.md, "The FPGA array's fold
  // stream"): whole beats of accel_pkg::kPortBytes bytes.
  virtual std::vector<uint8_t> weight_stream(int64_t fold) const = 0;
  // Token `token` of fold `fold`: `rows` group vectors of accel_pkg::kMaxM int8 activations, then its scale.
  virtual void activation_word(int64_t fold, int token, int8_t* vectors, float* scale) const = 0;
};

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void output(int64_t token, int64_t channel_tile, const float* values) = 0;  // `cols` values
};

struct SimulationResult {
  int64_t cycles = 0;          // from the cycle after start to the last output
  int64_t weight_beats = 0;    // beats the memory port delivered
  double wall_seconds = 0;
  bool cancelled = false;
};

// Throws std::runtime_error when the shape is not simulated or the RTL breaks its stream protocol.
SimulationResult simulate(ArrayShape shape, const RunRegisters& registers, const FoldStreams& streams, OutputSink& sink,
                          PortTiming memory = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope::rtl
