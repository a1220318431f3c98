#pragma once
// One run of one sweep shard, as the results database records it (table sweep_shards): which spec, which part of it,
// and where it ran. The shard's measurements carry the same study_id.
#include <cstdint>
#include <string>

namespace nmscope {

struct SweepShardRecord {
  std::string study_id;
  std::string created_at;  // ISO-8601 UTC, set by the store when empty
  std::string spec_hash;   // SweepSpec::hash
  int shard_index = 0;
  int shard_count = 1;
  int64_t points = 0;  // points in the shard
  std::string host;
  std::string build;
  std::string slurm_job_id;         // $SLURM_JOB_ID at sweep time, empty outside Slurm
  std::string slurm_array_task_id;  // $SLURM_ARRAY_TASK_ID at sweep time, empty outside a job array
};

}  // namespace nmscope
