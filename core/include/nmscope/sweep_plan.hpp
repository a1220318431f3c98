#pragma once
// A sweep's points (tensor x criterion x pattern x bits x engine x batch) in one fixed order, an estimate of each
// point's cost, and their split into N shards. Everything here follows from the spec and the sources' tensor lists,
// never from the machine (engine availability, core count, clock), so shard I/N is the same set of points wherever
// it is computed: a Slurm task needs nothing but the spec to find its part.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nmscope/sweep_spec.hpp"

namespace nmscope {

struct SweepTensor {
  int source = 0;  // index into SweepSpec::sources
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Indices into the spec's lists (engine: into SweepPlan::engines). Small, because planning holds millions of them.
struct SweepPoint {
  int32_t tensor = 0;
  int16_t criterion = 0;
  int16_t pattern = 0;
  int16_t bits = 0;
  int16_t engine = 0;
  int16_t batch = 0;  // -1 for engine "none" (an accuracy-only row has no batch)
};

struct SweepPlan {
  std::vector<SweepTensor> tensors;
  std::vector<std::string> engines;  // variant names the spec's engine list selects; {"none"} for accuracy only
  std::vector<SweepPoint> points;    // sources, tensors, criteria, patterns, bits, engines, batches: outer to inner
  std::vector<int64_t> costs;        // estimated cost of each point, arbitrary units
};

// Opens every source and lists the matching matrices. Throws Error naming a source that cannot be opened (a plan that
// silently left one out would differ between machines) or the spec when no tensor matches.
std::vector<SweepTensor> list_sweep_tensors(const SweepSpec& spec);
// Every point of the cross product that some engine measures: a variant built for other configurations (an int4
// kernel given 8 bits, the FPGA given fp16) yields no point, as it yields no row in a study.
SweepPlan plan_sweep(const SweepSpec& spec, std::vector<SweepTensor> tensors);
// The spec at `path` (into `spec`) and its plan; an error about the spec names the file the user wrote.
SweepPlan plan_sweep_file(const std::string& path, SweepSpec& spec);

// Estimated cost of one point: weights handled (rows x cols, times the batch for timed engines), and for the FPGA
// the analytic cycle count times the array's cells, which is what the cycle-accurate simulation spends.
int64_t estimate_point_cost(const SweepTensor& tensor, const NMPattern& pattern, const QuantConfig& quant,
                            const std::string& engine, int batch);

struct ShardSelection {
  int index = 0;  // 0-based, as a Slurm array task id
  int count = 1;
};
// "I/N" with 0 <= I < N; throws SettingError(Setting::Shard, reason).
ShardSelection parse_shard(const std::string& text);

struct ShardAssignment {
  std::vector<int32_t> shard_of;  // per point
  std::vector<int64_t> points_per_shard;
  std::vector<int64_t> cost_per_shard;
  // Slowest shard's cost over the mean shard's (1 = perfect balance).
  double imbalance() const;
};
// Longest processing time first: points by decreasing cost (ties: lower index first), each onto the least-loaded shard
// (ties: lower shard). Integer costs and fixed tie-breaks make it the same on every machine. Throws
// SettingError(Setting::Shard, reason) when shard_count is below 1 or above the number of points.
ShardAssignment assign_shards(std::span<const int64_t> costs, int shard_count);

}  // namespace nmscope
