#include "usage_error.hpp"

namespace nmscope::cli {

const char* flag_of(Setting setting) {
  switch (setting) {
    case Setting::Pattern:
      return "--pattern";
    case Setting::Bits:
      return "--bits";
    case Setting::Group:
      return "--group";
    case Setting::Granularity:
      return "--per-channel";
    case Setting::Batch:
      return "--batch";
    case Setting::Engines:
      return "--engines";
    case Setting::Criterion:
      return "--criterion";
    case Setting::MaskCriterion:
      return "--mask-criterion";
    case Setting::Quantizer:
      return "--quantizer";
    case Setting::Weights:
      return "--weights";
    case Setting::Activations:
      return "--activations";
    case Setting::Calibration:
      return "--calib";
    case Setting::Tokens:
      return "--tokens";
    case Setting::Model:
      return "--model";
    case Setting::Preset:
      return "--preset";
    case Setting::Layers:
      return "--layers";
    case Setting::ArraySize:
      return "--array";
    case Setting::FpgaClock:
      return "--fpga-clock-mhz";
    case Setting::FpgaMemory:
      return "--fpga-memory";
    case Setting::KvCache:
      return "--kv-cache";
    case Setting::Context:
      return "--context";
    case Setting::LatencyBatch:
      return "--latency-batch";
    case Setting::ThroughputBatch:
      return "--throughput-batch";
    case Setting::Shard:
      return "--shard";
    case Setting::Shards:
      return "--shards";
    case Setting::Partition:
      return "--partition";
    case Setting::TimeLimit:
      return "--time";
    case Setting::GpusPerShard:
      return "--gpus-per-shard";
    case Setting::Directory:
      return "--dir";
    case Setting::Table:
      return "--table";
    case Setting::TimingBudget:
      return "--timing-seconds";
  }
  return "--?";
}

}  // namespace nmscope::cli
