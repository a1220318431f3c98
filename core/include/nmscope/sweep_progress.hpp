#pragma once
// How much of one shard a shard database holds: the shard's planned points (sweep_plan.hpp) against the rows stored
// with status ok or unavailable. What `slurm status` shows and what `slurm resubmit` decides on; a database that
// does not exist, is not ours or fails SQLite's integrity check (a job killed mid-copy) holds nothing.
#include <cstdint>
#include <string>

#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_spec.hpp"

namespace nmscope {

struct ShardDatabaseState {
  std::string path;
  bool exists = false;
  std::string broken;   // non-empty: the file exists but cannot be used, and why
  int64_t planned = 0;  // points of the shard
  int64_t present = 0;  // planned points the database holds a usable row for
  int64_t rows = 0;     // measurement rows of any status (failed ones included)

  bool complete() const { return exists && broken.empty() && present == planned; }
  // "complete", "partial", "no database" or "broken: <reason>".
  std::string describe() const;
};

// Never throws for the database's sake: every problem with it lands in `broken`.
ShardDatabaseState inspect_shard_database(const SweepSpec& spec, const SweepPlan& plan,
                                          const ShardAssignment& assignment, int shard, const std::string& path);

}  // namespace nmscope
