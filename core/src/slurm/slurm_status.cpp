#include "nmscope/slurm_status.hpp"

#include <algorithm>
#include <sstream>

#include "nmscope/error.hpp"
#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_spec.hpp"
#include "util/process.hpp"

namespace nmscope {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string first_line(const std::string& text) { return trim(text.substr(0, text.find('\n'))); }

// "123_[0-3,7%2]" -> 123_0 .. 123_3, 123_7 (the %limit is a throttle, not a task); anything else as it is.
void add_states(std::map<std::string, std::string>& states, const std::string& job, const std::string& state) {
  const std::size_t open = job.find("_[");
  if (open == std::string::npos || job.back() != ']') {
    states[job] = state;
    return;
  }
  const std::string array = job.substr(0, open);
  std::string ranges = job.substr(open + 2, job.size() - open - 3);
  ranges = ranges.substr(0, ranges.find('%'));
  std::istringstream items(ranges);
  for (std::string item; std::getline(items, item, ',');) {
    try {
      const std::size_t dash = item.find('-');
      const int first = std::stoi(item.substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
      for (int task = first; task <= last && task - first < 1000000; ++task)
        states[array + "_" + std::to_string(task)] = state;
    } catch (const std::exception&) {
      // A form this parser does not know: that entry is left out, the rest still count.
    }
  }
}

std::map<std::string, std::string> parse_pairs(const std::string& out) {
  std::map<std::string, std::string> states;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    const std::string job = trim(line.substr(0, bar));
    std::string state = trim(line.substr(bar + 1));
    state = state.substr(0, state.find_first_of(" |"));  // "CANCELLED by 0" -> CANCELLED
    if (!job.empty() && !state.empty()) add_states(states, job, state);
  }
  return states;
}

std::string job_list(const SlurmSweep& sweep) {
  std::string list;
  for (const auto& submission : sweep.submissions)
    for (const std::string* id : {&submission.array_job_id, &submission.merge_job_id})
      if (!id->empty()) list += (list.empty() ? "" : ",") + *id;
  return list;
}

}  // namespace

bool is_active_slurm_state(const std::string& state) {
  static const char* const active[] = {"PENDING",      "RUNNING",     "CONFIGURING",  "COMPLETING", "REQUEUED",
                                       "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING",     "SUSPENDED",  "STOPPED",
                                       "SIGNALING",    "STAGE_OUT",   "RESV_DEL_HOLD"};
  return std::find(std::begin(active), std::end(active), state) != std::end(active);
}

bool SlurmShardStatus::active() const { return is_active_slurm_state(state); }

bool SlurmSweepStatus::merge_ended() const { return !merge_job.empty() && !is_active_slurm_state(merge_state); }

std::vector<int> SlurmSweepStatus::missing_shards() const {
  std::vector<int> missing;
  for (const auto& shard : shards)
    if (shard.needs_resubmission()) missing.push_back(shard.shard);
  return missing;
}

int64_t SlurmSweepStatus::present() const {
  int64_t total = 0;
  for (const auto& shard : shards) total += shard.database.present;
  return total;
}

int64_t SlurmSweepStatus::planned() const {
  int64_t total = 0;
  for (const auto& shard : shards) total += shard.database.planned;
  return total;
}

std::map<std::string, std::string> parse_squeue_states(const std::string& out) { return parse_pairs(out); }
std::map<std::string, std::string> parse_sacct_states(const std::string& out) { return parse_pairs(out); }

SlurmSweepStatus slurm_sweep_status(const SlurmSweep& sweep) {
  SlurmSweepStatus status;
  const std::string jobs = job_list(sweep);
  std::map<std::string, std::string> queued, accounted;
  // A job neither squeue nor sacct lists has ended only if squeue answered: when it could not be asked, its state
  // is unknown, and is shown so with the reason in the notes (it read ENDED, and could be resubmitted while running).
  bool squeue_answered = true;
  if (!jobs.empty()) {
    const ProcessResult squeue = run_process({"squeue", "-h", "-r", "--states=all", "--jobs=" + jobs, "-o", "%i|%T"});
    if (!squeue.started) {
      squeue_answered = false;
      status.notes.push_back("squeue: " + squeue.error + "; states unknown");
    } else if (squeue.exit_code == 0) {
      queued = parse_squeue_states(squeue.out);
    } else if (squeue.err.find("Invalid job id") == std::string::npos) {
      // --states=all: ended jobs too, for as long as the controller keeps them (MinJobAge); "Invalid job id" when
      // every one of them has left its memory, which is no failure.
      squeue_answered = false;
      status.notes.push_back("squeue failed: " + first_line(squeue.err.empty() ? squeue.out : squeue.err) +
                             "; states unknown");
    }

    const ProcessResult sacct = run_process({"sacct", "-n", "-P", "-X", "--jobs=" + jobs, "-o", "JobID,State"});
    if (!sacct.started) {
      status.notes.push_back("sacct: " + sacct.error + "; ended shards are judged by their databases");
    } else if (sacct.exit_code != 0) {
      status.notes.push_back("sacct: " + first_line(sacct.err.empty() ? sacct.out : sacct.err) +
                             "; ended shards are judged by their databases");
    } else {
      status.accounting = true;
      accounted = parse_sacct_states(sacct.out);
    }
  }
  auto state_of = [&](const std::string& job) -> std::string {
    if (auto found = queued.find(job); found != queued.end()) return found->second;
    if (auto found = accounted.find(job); found != accounted.end()) return found->second;
    return squeue_answered ? "ENDED" : kUnknownSlurmState;
  };

  const SweepSpec spec = read_sweep_spec(sweep.spec_path);
  if (spec.hash != sweep.spec_hash)
    throw Error(sweep.spec_path, "changed since the sweep was submitted (its hash differs)");
  const SweepPlan plan = plan_sweep(spec, list_sweep_tensors(spec));
  const ShardAssignment assignment = assign_shards(plan.costs, sweep.shard_count);
  for (int shard = 0; shard < sweep.shard_count; ++shard) {
    SlurmShardStatus entry;
    entry.shard = shard;
    const SlurmSubmission* submission = sweep.submission_of(shard);
    if (!submission || submission->array_job_id.empty()) {
      entry.state = "NOT SUBMITTED";
    } else {
      entry.job = submission->array_job_id + "_" + std::to_string(shard);
      entry.state = state_of(entry.job);
      // A pending array can still be listed as one job before its tasks are split off.
      if ((entry.state == "ENDED" || entry.state == kUnknownSlurmState) && queued.count(submission->array_job_id))
        entry.state = queued[submission->array_job_id];
    }
    entry.database = inspect_shard_database(spec, plan, assignment, shard, sweep.shard_database(shard));
    status.shards.push_back(std::move(entry));
  }
  if (!sweep.submissions.empty() && !sweep.submissions.back().merge_job_id.empty()) {
    status.merge_job = sweep.submissions.back().merge_job_id;
    status.merge_state = state_of(status.merge_job);
  }
  return status;
}

}  // namespace nmscope
