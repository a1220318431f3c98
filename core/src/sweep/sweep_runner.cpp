#include <cstdlib>
#include <set>
#include <tuple>

#include "nmscope/host_info.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/sweep.hpp"

namespace nmscope {

namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The points of one (tensor, criterion): the jobs a study over that tensor must measure, and nothing else.
struct TensorJobs {
  int32_t tensor = 0;
  int16_t criterion = 0;
  std::set<std::tuple<int16_t, int16_t, int16_t, int16_t>> jobs;  // (pattern, bits, engine, batch) indices
};

StudySpec study_for(const SweepSpec& spec, const SweepPlan& plan, const TensorJobs& group,
                    const std::string& study_id) {
  const SweepTensor& tensor = plan.tensors[group.tensor];
  StudySpec study;
  study.sources = {spec.sources[tensor.source]};
  study.tensors = {tensor.name};
  study.granularity = spec.granularity;
  study.group = spec.group;
  study.symmetric = spec.symmetric;
  study.criterion = spec.criteria[group.criterion];
  study.activations_path = spec.activations_path;
  study.engine_options = spec.engine_options;
  study.timing.target_seconds = spec.timing_seconds;
  study.skip_stored = true;
  study.study_id = study_id;

  // The study's lists in the spec's order, holding only what the group uses; include_job picks the exact points.
  std::set<int16_t> patterns, bits, engines, batches;
  for (const auto& [p, b, e, n] : group.jobs) {
    patterns.insert(p);
    bits.insert(b);
    engines.insert(e);
    batches.insert(n);
  }
  study.patterns.clear();
  for (int16_t p : patterns) study.patterns.push_back(spec.patterns[p]);
  study.bits.clear();
  for (int16_t b : bits) study.bits.push_back(spec.bits[b]);
  const bool accuracy_only = plan.engines.size() == 1 && plan.engines[0] == "none";
  study.engines = accuracy_only ? "none" : "";
  if (!accuracy_only)
    for (int16_t e : engines) study.engines += (study.engines.empty() ? "" : ",") + plan.engines[e];
  study.batches.clear();
  if (accuracy_only)
    study.batches = {1};
  else
    for (int16_t n : batches) study.batches.push_back(spec.batches[n]);

  std::set<std::tuple<std::string, int, std::string, int>> wanted;
  for (const auto& [p, b, e, n] : group.jobs)
    wanted.insert({spec.patterns[p].to_string(), spec.bits[b], plan.engines[e], n < 0 ? 0 : spec.batches[n]});
  study.include_job = [wanted = std::move(wanted)](const NMPattern& pattern, int width, const std::string& engine,
                                                   int batch) {
    return wanted.count({pattern.to_string(), width, engine, batch}) > 0;
  };
  return study;
}

}  // namespace

SweepShardSummary run_sweep_shard(const SweepSpec& spec, const SweepPlan& plan, ShardSelection shard,
                                  ResultsStore& store, const StudyObserver& observer, const std::atomic<bool>* cancel) {
  const ShardAssignment assignment = assign_shards(plan.costs, shard.count);
  SweepShardSummary summary;
  summary.study_id = new_study_id();
  summary.points = assignment.points_per_shard[shard.index];

  // Recorded before the first measurement, so even a shard killed at once shows which spec its database belongs to.
  SweepShardRecord record;
  record.study_id = summary.study_id;
  record.spec_hash = spec.hash;
  record.shard_index = shard.index;
  record.shard_count = shard.count;
  record.points = summary.points;
  record.host = host_description();
  record.build = build_description();
  record.slurm_job_id = environment("SLURM_JOB_ID");
  record.slurm_array_task_id = environment("SLURM_ARRAY_TASK_ID");
  store.insert_sweep_shard(record);

  // Points are enumerated tensor by tensor, criterion by criterion: consecutive points of the shard form the groups.
  std::vector<TensorJobs> groups;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    if (assignment.shard_of[i] != shard.index) continue;
    const SweepPoint& point = plan.points[i];
    if (groups.empty() || groups.back().tensor != point.tensor || groups.back().criterion != point.criterion)
      groups.push_back({point.tensor, point.criterion, {}});
    groups.back().jobs.insert({point.pattern, point.bits, point.engine, point.batch});
  }
  for (const TensorJobs& group : groups) {
    const StudySummary part = run_study(study_for(spec, plan, group, summary.study_id), &store, observer, cancel);
    summary.measurements += part.measurements;
    summary.already_stored += part.already_stored;
    summary.skipped += part.skipped;
    if (part.cancelled) {
      summary.cancelled = true;
      break;
    }
  }
  return summary;
}

}  // namespace nmscope
