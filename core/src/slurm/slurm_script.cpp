// The two sbatch scripts of a Slurm sweep, written to be read: a user checks them before a cluster spends hours on
// them, and submits them by hand if they like.
#include <sstream>

#include "nmscope/slurm_sweep.hpp"
#include "slurm/shell_quote.hpp"

namespace nmscope {

namespace {

void common_directives(std::ostringstream& script, const SlurmSweep& sweep) {
  if (!sweep.partition.empty()) script << "#SBATCH --partition=" << sweep.partition << "\n";
  if (!sweep.time_limit.empty()) script << "#SBATCH --time=" << sweep.time_limit << "\n";
}

void setup_lines(std::ostringstream& script, const SlurmSweep& sweep) {
  script << "set -euo pipefail\n";
  for (const std::string& line : sweep.setup) script << line << "\n";
}

}  // namespace

std::string slurm_array_range(const std::vector<int>& shards) {
  bool consecutive = !shards.empty();
  for (std::size_t i = 1; i < shards.size(); ++i) consecutive = consecutive && shards[i] == shards[i - 1] + 1;
  if (consecutive && shards.size() > 1) return std::to_string(shards.front()) + "-" + std::to_string(shards.back());
  std::string range;
  for (int shard : shards) range += (range.empty() ? "" : ",") + std::to_string(shard);
  return range;
}

std::string slurm_array_script(const SlurmSweep& sweep, const std::vector<int>& shards) {
  const std::string count = std::to_string(sweep.shard_count);
  std::ostringstream script;
  script << "#!/bin/bash\n"
         << "# nmscope sweep on Slurm: shards " << slurm_array_range(shards) << " of " << count << " of the sweep in "
         << sweep.spec_path << "\n"
         << "# (spec hash " << sweep.spec_hash << ", " << sweep.points << " points), one shard per array task.\n"
         << "# Written by `nmscope-cli slurm submit`. Each task measures its shard into shard-<task>.db beside this\n"
         << "# script and skips what that database holds already, so a task run again resumes. Follow it with\n"
         << "# `nmscope-cli slurm status --dir " << sweep.directory << "`; send the shards that miss rows again with\n"
         << "# `nmscope-cli slurm resubmit --dir " << sweep.directory << "`.\n"
         << "#SBATCH --job-name=nmscope-sweep\n"
         << "#SBATCH --array=" << slurm_array_range(shards) << "\n";
  common_directives(script, sweep);
  if (sweep.gpus_per_shard > 0) script << "#SBATCH --gres=gpu:" << sweep.gpus_per_shard << "\n";
  // Relative to the directory sbatch is called in, which is the sweep directory.
  script << "#SBATCH --output=logs/shard-%a-job%A.out\n";
  setup_lines(script, sweep);
  script << "# Relative sources in the spec are read from where the sweep was submitted.\n"
         << "cd " << shell_quote(sweep.working_directory) << "\n"
         << "exec " << shell_quote(sweep.cli_path) << " sweep --spec " << shell_quote(sweep.spec_path)
         << " --shard \"${SLURM_ARRAY_TASK_ID}/" << count << "\" --db " << shell_quote(sweep.directory + "/shard-")
         << "\"${SLURM_ARRAY_TASK_ID}.db\"\n";
  return script.str();
}

std::string slurm_merge_script(const SlurmSweep& sweep) {
  std::ostringstream script;
  script << "#!/bin/bash\n"
         << "# nmscope sweep on Slurm: merges every shard database of " << sweep.directory << " into all.db.\n"
         << "# Submitted with --dependency=afterany:<array job>: it runs when every shard has ended, successfully\n"
         << "# or not. merge takes what is there, is idempotent, and names a broken shard database; shards that\n"
         << "# miss rows go again with `nmscope-cli slurm resubmit --dir " << sweep.directory << "`.\n"
         << "#SBATCH --job-name=nmscope-merge\n";
  common_directives(script, sweep);
  script << "#SBATCH --output=logs/merge-job%j.out\n";
  setup_lines(script, sweep);
  script << "cd " << shell_quote(sweep.directory) << "\n"
         << "shopt -s nullglob\n"
         << "shards=(shard-*.db)\n"
         << "if [ ${#shards[@]} -eq 0 ]; then echo \"nmscope merge: no shard database in $PWD yet\" >&2; exit 1; fi\n"
         << "exec " << shell_quote(sweep.cli_path) << " merge --out all.db \"${shards[@]}\"\n";
  return script.str();
}

}  // namespace nmscope
