#pragma once
// A sweep run on a Slurm cluster: one job array (a shard per task, `nmscope-cli sweep --shard $SLURM_ARRAY_TASK_ID/N`)
// and a merge job that runs after it (`--dependency=afterany:`), both plain sbatch scripts written into one directory
// on the shared filesystem, beside the shard databases, a copy of the spec and a state file (slurm.json) that records
// every submission, so that `slurm status` and `slurm resubmit` (and the GUI) find the jobs again. Slurm does the
// scheduling, retries and accounting; nmscope only writes scripts and calls sbatch.
#include <cstdint>
#include <string>
#include <vector>

namespace nmscope {

struct SlurmSubmitOptions {
  std::string spec_path;
  int shards = 1;
  std::string partition;    // empty: the cluster's default partition
  int gpus_per_shard = -1;  // -1: 1 when the spec has GPU engines; requested only for GPU engines
  std::string time_limit;   // sbatch --time (e.g. 02:00:00); empty: the partition's default
  std::string directory = "nmscope-slurm";
  std::string cli_path;            // the nmscope-cli the tasks run; empty: this process's own executable
  std::vector<std::string> setup;  // shell lines run before the shard (e.g. "module load cuda/13.0")
  bool dry_run = false;            // write the scripts, submit nothing
  // Submit into a folder that holds an earlier submission: its files move to DIR/previous-<time>/ first. Without
  // it such a folder is refused.
  bool force = false;
};

// One sbatch of shards and the merge job that follows it.
struct SlurmSubmission {
  std::vector<int> shards;
  std::string array_job_id;  // empty in a dry run
  std::string merge_job_id;
  std::string array_script;  // paths of the scripts submitted
  std::string merge_script;
  std::string submitted_at;  // ISO-8601 UTC
};

// The state file (DIR/slurm.json) of one sweep directory.
struct SlurmSweep {
  std::string directory;  // absolute
  std::string spec_path;  // DIR/sweep.json, the copy the tasks read
  std::string spec_hash;
  int shard_count = 1;
  int64_t points = 0;
  bool gpu_engines = false;
  std::string partition;
  int gpus_per_shard = 0;  // what each task requests (0: no GPU request)
  std::string time_limit;
  std::string cli_path;
  std::string working_directory;  // where the tasks start, so relative sources resolve as at submission
  std::vector<std::string> setup;
  std::vector<SlurmSubmission> submissions;

  std::string shard_database(int shard) const;  // DIR/shard-I.db
  std::string merged_database() const;          // DIR/all.db, what the merge job writes
  std::string state_path() const;               // DIR/slurm.json
  // The latest submission that covers `shard`, or null.
  const SlurmSubmission* submission_of(int shard) const;
};

struct SlurmSubmitted {
  SlurmSweep sweep;
  SlurmSubmission submission;  // the scripts written; job ids empty in a dry run
};

// Checks the spec and the shard count (Error naming the spec, or SettingError Shards when N exceeds the sweep's
// points), writes DIR/sweep.json, the scripts and the state file; then, unless dry_run, submits the array and the merge
// job with `sbatch --parsable` and records their ids. Throws Error("sbatch", reason) when sbatch is missing or refuses
// a script: the scripts are written by then.
SlurmSubmitted submit_slurm_sweep(const SlurmSubmitOptions& options);

// Reads DIR/slurm.json; Error(path, reason) when it is missing or malformed.
SlurmSweep read_slurm_sweep(const std::string& directory);

// Writes a new array script holding only `shards` (`--array=3,7`) and a merge script, submits both (the merge after
// the new array, `afterany`), records them in the state file and returns the submission. `shards` must not be empty.
// A shard database that is broken is moved aside first (shard-I.db.broken-N), so the task starts it afresh.
SlurmSubmission resubmit_slurm_shards(SlurmSweep& sweep, const std::vector<int>& shards);

// The sbatch script of an array of `shards` (the text submit and resubmit write), and of the merge job.
std::string slurm_array_script(const SlurmSweep& sweep, const std::vector<int>& shards);
std::string slurm_merge_script(const SlurmSweep& sweep);
// "0-3" for 0,1,2,3; "3,7" otherwise: sbatch's --array syntax.
std::string slurm_array_range(const std::vector<int>& shards);

}  // namespace nmscope
