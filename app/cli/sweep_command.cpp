// nmscope-cli sweep: one deterministic, cost-balanced shard of a sweep spec, measured into a shard database (resuming
// what it already holds); --plan shows every shard's size and estimated cost without measuring.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "interrupt_scope.hpp"
#include "measurement_json.hpp"
#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/sweep.hpp"
#include "progress_line.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct SweepOptions {
  std::string spec_path;
  std::string shard = "0/1";
  std::string database;
  bool plan_only = false;
  bool quiet = false;  // no progress line
  bool json = false;
};

void print_plan(const SweepPlan& plan, const ShardAssignment& assignment, ShardSelection shard) {
  std::printf("%-7s %10s %18s %8s\n", "shard", "points", "estimated_cost", "vs_mean");
  long double total = 0;
  for (int64_t cost : assignment.cost_per_shard) total += cost;
  const double mean = double(total / assignment.cost_per_shard.size());
  for (std::size_t i = 0; i < assignment.cost_per_shard.size(); ++i)
    std::printf("%-7s %10lld %18lld %7.3fx%s\n", (std::to_string(i) + "/" + std::to_string(shard.count)).c_str(),
                static_cast<long long>(assignment.points_per_shard[i]),
                static_cast<long long>(assignment.cost_per_shard[i]),
                mean > 0 ? assignment.cost_per_shard[i] / mean : 1.0,
                int(i) == shard.index && shard.count > 1 ? "  <- --shard" : "");
  std::printf("%zu points in %d shards over %zu tensors; slowest shard %.3fx the mean\n", plan.points.size(),
              shard.count, plan.tensors.size(), assignment.imbalance());
}

// The plan as one JSON object: per shard its points, estimated cost and cost against the mean.
void print_plan_json(const SweepPlan& plan, const ShardAssignment& assignment, ShardSelection shard) {
  long double total = 0;
  for (int64_t cost : assignment.cost_per_shard) total += cost;
  const double mean = double(total / assignment.cost_per_shard.size());
  nlohmann::json shards = nlohmann::json::array();
  for (std::size_t i = 0; i < assignment.cost_per_shard.size(); ++i)
    shards.push_back({{"shard", i},
                      {"points", assignment.points_per_shard[i]},
                      {"estimated_cost", assignment.cost_per_shard[i]},
                      {"vs_mean", mean > 0 ? assignment.cost_per_shard[i] / mean : 1.0}});
  std::cout << nlohmann::json{{"points", plan.points.size()},
                              {"tensors", plan.tensors.size()},
                              {"shard_count", shard.count},
                              {"imbalance", assignment.imbalance()},
                              {"shards", shards}}
                   .dump()
            << std::endl;
}

int sweep(const SweepOptions& options) {
  const ShardSelection shard = parse_shard(options.shard);
  if (!options.plan_only && options.database.empty())
    throw UsageError("--db", "a shard needs its own database (e.g. --db shard-" + std::to_string(shard.index) + ".db)");
  SweepSpec spec;
  const SweepPlan plan = plan_sweep_file(options.spec_path, spec);
  const ShardAssignment assignment = assign_shards(plan.costs, shard.count);
  if (options.plan_only) {
    if (options.json)
      print_plan_json(plan, assignment, shard);
    else
      print_plan(plan, assignment, shard);
    return 0;
  }

  ResultsStore store(options.database);
  warn_if_damaged(store);
  StudyObserver observer;
  observer.measured = [&](const Measurement& m) {
    if (options.json) std::cout << measurement_to_json(m).dump() << std::endl;
  };
  ProgressLine progress(options.quiet || options.json);
  observer.skipped = [&](const Error& error) {
    progress.clear();
    print_error(error.what());
  };
  // The shard runs as several studies: the line counts the shard's points, part after part.
  int64_t finished_parts = 0;
  const int64_t shard_points = assignment.points_per_shard[size_t(shard.index)];
  observer.progress = [&](const StudyProgress& part) {
    if (part.current.empty()) {
      finished_parts += part.total;
      return;
    }
    progress.update(finished_parts + part.done, shard_points, part.current);
  };
  SweepShardSummary summary;
  {
    const InterruptScope interrupt;
    summary = run_sweep_shard(spec, plan, shard, store, observer, interrupt.flag());
  }
  progress.clear();
  if (summary.cancelled) {
    print_error("cancelled; " + std::to_string(summary.measurements) + " measurements stored in " + store.path() +
                " (run the same command to resume)");
    return kInterruptedExit;
  }
  if (!options.json)
    std::cerr << "shard " << options.shard << ": " << summary.points << " points, " << summary.measurements
              << " measured, " << summary.already_stored << " already stored in " << store.path() << " (study "
              << summary.study_id << ", spec " << spec.hash << ")\n";
  return summary.skipped > 0 ? 1 : 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* command = app.add_subcommand("sweep", "Run one deterministic, cost-balanced shard of a sweep spec");
  command->add_option("--spec", options->spec_path, "Sweep spec (sweep.json)")->required();
  command->add_option("--shard", options->shard, "I/N: the I-th (from 0) of N shards")->capture_default_str();
  command->add_option("--db", options->database, "Shard results database; what it holds is not measured again");
  command->add_flag("--plan", options->plan_only, "Print every shard's points and estimated cost; measure nothing");
  command->add_flag("--json", options->json, "One JSON object per measurement per line on stdout");
  command->add_flag("--quiet", options->quiet, "No progress line on stderr (it is shown only on a terminal)");
  return {command, [options] { return sweep(*options); }};
}

}  // namespace nmscope::cli
