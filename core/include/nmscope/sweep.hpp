#pragma once
// Running one shard of a sweep: its points, grouped by tensor and criterion into studies (run_study does the work,
// so a shard measures, stores, resumes and cancels exactly as `run` does), all under one study id that the
// database's sweep_shards row ties to the spec's hash, the shard, the host and the Slurm job.
#include <atomic>
#include <cstdint>
#include <string>

#include "nmscope/study.hpp"
#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_spec.hpp"

namespace nmscope {

class ResultsStore;

struct SweepShardSummary {
  std::string study_id;
  int64_t points = 0;          // points in the shard
  int64_t measurements = 0;    // rows stored by this run
  int64_t already_stored = 0;  // points the database held already (resume)
  int64_t skipped = 0;         // sources, tensors or jobs reported through observer.skipped
  bool cancelled = false;
};

// Measures the points of `shard` that the store does not hold yet. Throws Error as run_study does (bad spec, a store
// that cannot write); everything else goes through the observer.
SweepShardSummary run_sweep_shard(const SweepSpec& spec, const SweepPlan& plan, ShardSelection shard,
                                  ResultsStore& store, const StudyObserver& observer,
                                  const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
