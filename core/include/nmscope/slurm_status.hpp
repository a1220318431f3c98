#pragma once
// Where a Slurm sweep stands: each shard's job state from squeue (live jobs) and sacct (ended ones, where the
// cluster keeps accounting), and how many of its planned rows its database holds. Without accounting, a shard that
// left the queue is "ENDED" and its database tells whether it finished. Used by `nmscope-cli slurm status` and
// `resubmit` and by the GUI's "Run on cluster…" dialog.
#include <map>
#include <string>
#include <vector>

#include "nmscope/slurm_sweep.hpp"
#include "nmscope/sweep_progress.hpp"

namespace nmscope {

// The state of a job squeue could not be asked about: the notes say why.
inline constexpr const char* kUnknownSlurmState = "UNKNOWN";

struct SlurmShardStatus {
  int shard = 0;
  std::string job;    // "ARRAYJOB_TASK" as Slurm names it; empty when never submitted
  std::string state;  // Slurm's (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...), ENDED, NOT SUBMITTED
  ShardDatabaseState database;

  // Still queued or running: neither resubmitted nor counted as missing yet.
  bool active() const;
  // UNKNOWN (squeue could not be asked): possibly still running, so never resubmitted on a guess.
  bool unknown() const { return state == kUnknownSlurmState; }
  bool needs_resubmission() const { return !active() && !unknown() && !database.complete(); }
};

struct SlurmSweepStatus {
  std::vector<SlurmShardStatus> shards;
  std::string merge_job;           // of the latest submission
  std::string merge_state;         // as a shard's state
  bool accounting = false;         // sacct answered
  std::vector<std::string> notes;  // what could not be asked (squeue failed, sacct off), one line each

  bool merge_ended() const;                 // the latest merge job has left the queue
  std::vector<int> missing_shards() const;  // needs_resubmission(), in order
  int64_t present() const;
  int64_t planned() const;
};

// Asks squeue and sacct about every job of the state file and inspects every shard database. Throws Error only for
// the spec (unreadable, changed since submission); Slurm commands that are missing or fail become notes.
SlurmSweepStatus slurm_sweep_status(const SlurmSweep& sweep);

// Parsers of `squeue -h -r -o %i|%T` and `sacct -n -P -X -o JobID,State` output: job ("123_4", "124") -> state.
// sacct's unexpanded pending arrays ("123_[0-3,7]") become one entry per task; "CANCELLED by 0" becomes CANCELLED.
std::map<std::string, std::string> parse_squeue_states(const std::string& out);
std::map<std::string, std::string> parse_sacct_states(const std::string& out);

bool is_active_slurm_state(const std::string& state);

}  // namespace nmscope
