#pragma once
// Random whole-GEMM checks of the RTL against the bit-exact reference and the analytic cycle model: what
// `nmscope-cli verify --engine fpga` and the rtl test suite run.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope::fpga {

struct VerifyCase {
  ArraySize array;
  NMPattern pattern;
  QuantConfig quant;
  int64_t out_channels = 1;
  int64_t in_features = 1;
  int64_t tokens = 1;
  int token_depth = 256;  // activation/accumulator bank depth used (<= the RTL's TokenDepth)
  uint64_t seed = 0;
  float activation_scale = 1.0f;  // multiplies the random activations (tiny values probe the subnormal flush)
  MemoryTiming memory;            // the memory behind the port: latency and bandwidth in cycles
  std::string describe() const;
};

struct VerifyOutcome {
  VerifyCase config;
  int64_t rtl_cycles = 0;
  int64_t model_cycles = 0;
  int64_t rtl_weight_bytes = 0;    // through the memory port, as the harness delivered them
  int64_t model_weight_bytes = 0;  // as the cycle model counts them
  int64_t outputs = 0;
  int64_t mismatches = 0;      // outputs whose bits differ from the reference (or were not written exactly once)
  double simulation_seconds = 0;
  std::string error;           // the simulation broke
  bool passed() const {
    return error.empty() && mismatches == 0 && rtl_cycles == model_cycles && rtl_weight_bytes == model_weight_bytes;
  }
};

// `count` configurations over the simulated shapes: shapes with tails, every supported N:M with M <= 8, 2-8 bits,
// symmetric and asymmetric, group / channel / tensor scales, token depths below and above the batch, memories from
// 0.5 to 96 bytes per cycle (and an unlimited one) with latencies of 0 to 300 cycles.
std::vector<VerifyCase> random_verify_cases(int count, uint64_t seed);
// Whether this build has the Verilated RTL (Verilator found at configure time); without it there is nothing to verify.
bool rtl_model_available();
VerifyOutcome run_verify_case(const VerifyCase& config);

}  // namespace nmscope::fpga
