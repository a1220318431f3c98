#pragma once
// One decode step of a decoder (LLaMA-7B or any model's shape) on the modelled FPGA array (issue 22): the step's
// linear layers at batch B through the systolic array with its memory system (fpga::model_cycles, which equals the
// RTL's cycles; full-size layers are too long to simulate), attention and norms on the host by a fixed model
// (docs/fpga-memory.md, "A decode step on the array"): per-token latency and tokens/s at the array's clock.
#include <cstdint>
#include <string>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/model.hpp"
#include "nmscope/nm_pattern.hpp"

namespace nmscope {

// The weights the array streams: an N:M pattern at b bits with scales per `group` columns, or fp16 dense weights
// (`fp16`: a design with the same schedule and 16-bit weights, modelled only: the RTL takes 2-8 bit codes).
struct FpgaDecodeDesign {
  NMPattern pattern = NMPattern::dense();
  int bits = 4;
  int group = 128;
  bool fp16 = false;
  std::string label() const;  // "2:4 + INT4", "dense INT8", "dense fp16"
};

struct FpgaDecodeStep {
  int64_t batch = 0;
  int64_t context = 0;
  int64_t linear_cycles = 0;     // every linear layer of the step, the head included
  int64_t stall_cycles = 0;      // of which the memory stretched
  int64_t weight_bytes = 0;      // streamed through the port in the step
  int64_t kv_cache_bytes = 0;    // read by the host's attention
  bool memory_bound = false;     // the linear layers' port time exceeds their compute time
  double linear_us = 0;          // linear_cycles at the clock
  double host_us = 0;            // attention: the fp16 KV cache read at the memory's bandwidth
  double step_us = 0;            // linear_us + host_us
  double tokens_per_second = 0;  // batch / step time
};

FpgaDecodeStep fpga_decode_step(const ModelConfig& model, const FpgaDecodeDesign& design, int64_t batch,
                                int64_t context, fpga::ArraySize array, double clock_mhz,
                                const fpga::MemorySystem& memory);

}  // namespace nmscope
