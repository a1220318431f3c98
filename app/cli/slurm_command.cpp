// nmscope-cli slurm submit | status | resubmit: a sweep as a Slurm job array plus a merge job, followed and repaired
// through the state file in its directory. The work is core's (slurm_sweep.hpp, slurm_status.hpp); this prints it.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/slurm_status.hpp"
#include "nmscope/slurm_sweep.hpp"

namespace nmscope::cli {

namespace {

struct SlurmCommandOptions {
  SlurmSubmitOptions submit;
  std::string directory = "nmscope-slurm";
  CLI::App* submit_parser = nullptr;
  CLI::App* status_parser = nullptr;
  CLI::App* resubmit_parser = nullptr;
};

void print_submission(const SlurmSweep& sweep, const SlurmSubmission& submission) {
  std::printf("array script: %s\nmerge script: %s\n", submission.array_script.c_str(), submission.merge_script.c_str());
  if (submission.array_job_id.empty()) {
    std::printf(
        "dry run: nothing submitted; submit with\n  cd %s && sbatch %s\n  sbatch --dependency=afterany:<array job id> "
        "%s\n",
        sweep.directory.c_str(), submission.array_script.c_str(), submission.merge_script.c_str());
    return;
  }
  std::printf("array job %s (shards %s of %d)\nmerge job %s (after the array: %s)\n", submission.array_job_id.c_str(),
              slurm_array_range(submission.shards).c_str(), sweep.shard_count, submission.merge_job_id.c_str(),
              sweep.merged_database().c_str());
}

int submit(const SlurmCommandOptions& options) {
  const auto [sweep, submission] = submit_slurm_sweep(options.submit);
  std::printf(
      "%lld points in %d shards%s\n", static_cast<long long>(sweep.points), sweep.shard_count,
      sweep.gpus_per_shard > 0 ? (", " + std::to_string(sweep.gpus_per_shard) + " GPU(s) per shard").c_str() : "");
  print_submission(sweep, submission);
  return 0;
}

void print_status(const SlurmSweep& sweep, const SlurmSweepStatus& status) {
  std::printf("%-6s %-14s %-14s %9s %9s  %s\n", "shard", "job", "state", "rows", "planned", "database");
  for (const auto& shard : status.shards)
    std::printf("%-6d %-14s %-14s %9lld %9lld  %s\n", shard.shard, shard.job.empty() ? "-" : shard.job.c_str(),
                shard.state.c_str(), static_cast<long long>(shard.database.present),
                static_cast<long long>(shard.database.planned), shard.database.describe().c_str());
  if (!status.merge_job.empty())
    std::printf("merge  %-14s %-14s  -> %s\n", status.merge_job.c_str(), status.merge_state.c_str(),
                sweep.merged_database().c_str());
  const std::vector<int> missing = status.missing_shards();
  std::printf("%lld of %lld rows in the shard databases; %zu shard(s) to resubmit%s%s\n",
              static_cast<long long>(status.present()), static_cast<long long>(status.planned()), missing.size(),
              missing.empty() ? "" : ": ", missing.empty() ? "" : slurm_array_range(missing).c_str());
  for (const auto& note : status.notes) std::printf("note: %s\n", note.c_str());
}

int status(const SlurmCommandOptions& options) {
  const SlurmSweep sweep = read_slurm_sweep(options.directory);
  print_status(sweep, slurm_sweep_status(sweep));
  return 0;
}

int resubmit(const SlurmCommandOptions& options) {
  SlurmSweep sweep = read_slurm_sweep(options.directory);
  const SlurmSweepStatus status = slurm_sweep_status(sweep);
  for (const auto& shard : status.shards)
    if ((shard.active() || shard.unknown()) && !shard.database.complete())
      std::printf("shard %d is %s (job %s): not resubmitted\n", shard.shard, shard.state.c_str(), shard.job.c_str());
  for (const auto& note : status.notes) std::printf("note: %s\n", note.c_str());
  const std::vector<int> missing = status.missing_shards();
  if (missing.empty()) {
    std::printf("no shard misses rows that is not queued or running: nothing to resubmit\n");
    return 0;
  }
  for (int shard : missing)
    std::printf("shard %d: %lld of %lld rows (%s)\n", shard,
                static_cast<long long>(status.shards[shard].database.present),
                static_cast<long long>(status.shards[shard].database.planned),
                status.shards[shard].database.describe().c_str());
  const SlurmSubmission submission = resubmit_slurm_shards(sweep, missing);
  print_submission(sweep, submission);
  return 0;
}

}  // namespace

Command add_slurm_command(CLI::App& app) {
  auto options = std::make_shared<SlurmCommandOptions>();
  CLI::App* command = app.add_subcommand("slurm", "Run a sweep on a Slurm cluster: submit, status, resubmit");
  command->require_subcommand(1);

  CLI::App* submit_parser = options->submit_parser =
      command->add_subcommand("submit", "Write the sbatch scripts (a job array and a merge job) and submit them");
  SlurmSubmitOptions& submit_options = options->submit;
  submit_parser->add_option("--spec", submit_options.spec_path, "Sweep spec (sweep.json)")->required();
  submit_parser->add_option("--shards", submit_options.shards, "N: shards, one per array task")->required();
  submit_parser->add_option("--partition", submit_options.partition, "Slurm partition (default: the cluster's)");
  submit_parser->add_option("--gpus-per-shard", submit_options.gpus_per_shard,
                            "GPUs per task (--gres=gpu:G), requested only when the spec has GPU engines (default 1)");
  submit_parser->add_option("--time", submit_options.time_limit, "Time limit per task (sbatch --time, e.g. 02:00:00)");
  submit_parser
      ->add_option("--dir", submit_options.directory,
                   "Directory on the shared filesystem for the scripts, shard databases and logs")
      ->capture_default_str();
  submit_parser->add_option("--setup", submit_options.setup,
                            "A shell line run before each job, e.g. 'module load cuda/13.0' (may repeat)");
  submit_parser->add_option("--cli", submit_options.cli_path, "The nmscope-cli the jobs run (default: this one)");
  submit_parser->add_flag("--dry-run", submit_options.dry_run, "Write the scripts only; submit nothing");
  submit_parser->add_flag("--force", submit_options.force,
                          "Submit into a --dir that holds an earlier submission, moving it to DIR/previous-<time>/");

  options->status_parser = command->add_subcommand("status", "Per-shard state (squeue / sacct) and rows present");
  options->status_parser->add_option("--dir", options->directory, "The sweep's directory")->capture_default_str();
  options->resubmit_parser =
      command->add_subcommand("resubmit", "Send again only the shards whose rows are missing, and a new merge job");
  options->resubmit_parser->add_option("--dir", options->directory, "The sweep's directory")->capture_default_str();

  return {command, [options] {
            if (options->submit_parser->parsed()) return submit(*options);
            if (options->status_parser->parsed()) return status(*options);
            return resubmit(*options);
          }};
}

}  // namespace nmscope::cli
