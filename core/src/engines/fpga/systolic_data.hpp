#pragma once
// The data side of the FPGA engine: int8 activations per token, the fold streams the DMA feeds the array with
// (layouts of rtl/README.md, "Memories"), and the bit-exact C++ reference of what the RTL computes. Private to the
// engine and the RTL tests: core's public headers carry no rtl or kernels types.
#include <cstdint>
#include <vector>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/kernels/packed_weights_view.hpp"
#include "nmscope/rtl/accel_layout.hpp"
#include "nmscope/rtl/systolic_rtl.hpp"

namespace nmscope::fpga {

// The widest N:M group the array takes: MaxM of rtl/src/nm_accel_pkg.sv, exported to C++ once (accel_layout.hpp).
inline constexpr int kMaxGroupSize = rtl::accel_pkg::kMaxM;

// x [tokens, cols] as int8 with one binary32 scale per token: s = absmax / 127, q = round-half-even(x / s).
struct TokenActivations {
  int64_t tokens = 0;
  int64_t cols = 0;
  std::vector<int8_t> values;  // [tokens, cols]
  std::vector<float> scales;   // [tokens]
};
TokenActivations quantize_per_token(const float* x, int64_t tokens, int64_t cols);

GemmShape gemm_shape(const kernels::PackedWeightsView& weights, int64_t tokens);

// Everything one run of the array needs: registers, and the memory's and the activation store's view of the operands.
class SystolicRun final : public rtl::FoldStreams {
 public:
  SystolicRun(const kernels::PackedWeightsView& weights, const TokenActivations& activations, ArraySize array,
              int token_depth);

  const FoldPlan& plan() const { return plan_; }
  const rtl::RunRegisters& registers() const { return registers_; }
  int64_t folds() const;

  int tokens_of(int64_t fold) const override;
  std::vector<uint8_t> weight_stream(int64_t fold) const override;
  void activation_word(int64_t fold, int token, int8_t* vectors, float* scale) const override;

  // What the RTL must output, bit for bit: y [tokens, out_channels] (rtl/README.md, "Dequantization").
  std::vector<float> reference_output() const;

 private:
  struct FoldIndex {
    int64_t token_base;
    int tokens;
    int64_t channel_tile;
    int64_t k;
  };
  FoldIndex locate(int64_t fold) const;
  int64_t scale_of_slot(int64_t channel, int64_t slot) const;

  const kernels::PackedWeightsView& weights_;
  const TokenActivations& activations_;
  ArraySize array_;
  FoldPlan plan_;
  TokenTiling tiling_;
  rtl::RunRegisters registers_;
};

}  // namespace nmscope::fpga
