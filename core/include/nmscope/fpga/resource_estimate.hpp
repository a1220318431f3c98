#pragma once
// FPGA resource estimates of an array configuration from Yosys (synth_xilinx for 7-series, Debian's yosys 0.23):
// LUTs, flip-flops, DSP slices and block RAMs of nm_accel with the given rows and cols. Synthesis takes seconds to
// minutes, so every result is cached per configuration (keyed by the RTL's bytes and the script) under
// ~/.cache/nmscope/yosys; the engine shows a cached estimate, `nmscope-cli synth` makes one.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "nmscope/fpga/systolic_array.hpp"

namespace nmscope::fpga {

struct ResourceEstimate {
  int64_t luts = 0;
  int64_t flip_flops = 0;
  int64_t dsps = 0;
  int64_t block_rams = 0;       // RAMB36 + RAMB18 / 2, in RAMB36 equivalents (rounded up)
  int64_t lut_rams = 0;         // LUTs used as distributed RAM / shift registers
  std::string flow;             // the Yosys command that produced it
  double synthesis_seconds = 0;
  std::string to_json() const;
};

// The cached estimate, or nothing when this configuration was never synthesized here (no Yosys run).
std::optional<ResourceEstimate> cached_resource_estimate(ArraySize array);
// Synthesizes when not cached. Throws Error("yosys", reason) when Yosys is missing or fails.
ResourceEstimate estimate_resources(ArraySize array);

// Parses the text report of Yosys' `stat` command (exposed for tests).
ResourceEstimate parse_yosys_stat(const std::string& report);

}  // namespace nmscope::fpga
