#include "nmscope/error.hpp"

namespace nmscope {

const char* setting_name(Setting setting) {
  switch (setting) {
    case Setting::Pattern:
      return "N:M patterns";
    case Setting::Bits:
      return "bits";
    case Setting::Group:
      return "quantization group";
    case Setting::Granularity:
      return "scale granularity";
    case Setting::Batch:
      return "batch sizes";
    case Setting::Engines:
      return "engines";
    case Setting::Criterion:
      return "criterion";
    case Setting::MaskCriterion:
      return "mask criterion";
    case Setting::Quantizer:
      return "quantizer";
    case Setting::Weights:
      return "weights";
    case Setting::Activations:
      return "activations";
    case Setting::Calibration:
      return "calibration tokens";
    case Setting::Tokens:
      return "token ids";
    case Setting::Model:
      return "model";
    case Setting::Preset:
      return "model preset";
    case Setting::Layers:
      return "layers";
    case Setting::ArraySize:
      return "FPGA arrays";
    case Setting::FpgaClock:
      return "FPGA clock";
    case Setting::FpgaMemory:
      return "FPGA memory";
    case Setting::KvCache:
      return "KV cache";
    case Setting::Context:
      return "context";
    case Setting::LatencyBatch:
      return "latency batch";
    case Setting::ThroughputBatch:
      return "throughput batch";
    case Setting::Shard:
      return "shard";
    case Setting::Shards:
      return "shards";
    case Setting::Partition:
      return "partition";
    case Setting::TimeLimit:
      return "time limit";
    case Setting::GpusPerShard:
      return "GPUs per shard";
    case Setting::Directory:
      return "directory";
    case Setting::Table:
      return "table";
    case Setting::TimingBudget:
      return "timing budget";
  }
  return "setting";
}

}  // namespace nmscope
