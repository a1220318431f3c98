// The decode step on the modelled FPGA array: the linear layers through fpga::model_cycles (memory included), the
// attention on the host as a fixed model: it reads the step's fp16 KV cache once at the memory's bandwidth (the
// array waits meanwhile: no overlap is claimed); norms, RoPE, SwiGLU and the residual adds move batch x hidden
// values and are left out (under 0.1 % of the bytes).
#include "nmscope/fpga_decode_step.hpp"

#include <algorithm>

namespace nmscope {

namespace {
// Token-tile depth of the modelled array (the RTL's TokenDepth).
constexpr int kTokenDepth = 256;
}  // namespace

std::string FpgaDecodeDesign::label() const {
  if (fp16) return "dense fp16";
  return (pattern.is_dense() ? std::string("dense") : pattern.to_string()) + (pattern.is_dense() ? " INT" : " + INT") +
         std::to_string(bits);
}

FpgaDecodeStep fpga_decode_step(const ModelConfig& model, const FpgaDecodeDesign& design, int64_t batch,
                                int64_t context, fpga::ArraySize array, double clock_mhz,
                                const fpga::MemorySystem& memory) {
  FpgaDecodeStep step;
  step.batch = batch;
  step.context = context;
  const fpga::MemoryTiming timing = fpga::memory_timing(memory, clock_mhz);
  const int64_t head_dim = model.head_dim > 0 ? model.head_dim : model.hidden / std::max<int64_t>(model.heads, 1);
  const int64_t kv_heads = model.kv_heads > 0 ? model.kv_heads : model.heads;
  struct Linear {
    int64_t rows, cols, count;
  };
  // One block's q/k/v (fused), output, gate/up (fused) and down projections, and the head.
  const Linear linears[] = {{(model.heads + 2 * kv_heads) * head_dim, model.hidden, model.blocks},
                            {model.hidden, model.heads * head_dim, model.blocks},
                            {2 * model.intermediate, model.hidden, model.blocks},
                            {model.hidden, model.intermediate, model.blocks},
                            {model.vocab, model.hidden, 1}};
  int64_t fetch_cycles = 0, compute_cycles = 0;
  for (const Linear& linear : linears) {
    fpga::GemmShape shape;
    shape.out_channels = linear.rows;
    shape.in_features = linear.cols;
    shape.n = design.fp16 ? 1 : design.pattern.kept_per_group;
    shape.m = design.fp16 ? 1 : design.pattern.group_size;
    shape.quant_group = design.fp16 ? 0 : design.group;
    shape.bits = design.fp16 ? 16 : design.bits;
    shape.tokens = batch;
    const fpga::CycleEstimate estimate = fpga::model_cycles(shape, array, kTokenDepth, timing);
    step.linear_cycles += estimate.cycles * linear.count;
    step.stall_cycles += estimate.stall_cycles * linear.count;
    step.weight_bytes += estimate.weight_bytes * linear.count;
    fetch_cycles += estimate.fetch_cycles * linear.count;
    compute_cycles += estimate.compute_cycles * linear.count;
  }
  step.memory_bound = fetch_cycles > compute_cycles;
  const int64_t positions = model.sliding_window > 0 ? std::min(context, model.sliding_window) : context;
  step.kv_cache_bytes = batch * model.blocks * positions * 2 * kv_heads * head_dim * 2;
  step.linear_us = double(step.linear_cycles) / clock_mhz;
  step.host_us =
      memory.gigabytes_per_second > 0 ? double(step.kv_cache_bytes) / (memory.gigabytes_per_second * 1e3) : 0.0;
  step.step_us = step.linear_us + step.host_us;
  step.tokens_per_second = step.step_us > 0 ? double(batch) * 1e6 / step.step_us : 0;
  return step;
}

}  // namespace nmscope
