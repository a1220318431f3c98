// nmscope-cli merge: shard databases into one, idempotently; duplicates and conflicts are reported, broken shards
// named for resubmission, and the rest merged.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/merge.hpp"

namespace nmscope::cli {

namespace {

struct MergeCommandOptions {
  std::string output;
  std::vector<std::string> inputs;
  bool force = false;
};

int merge(const MergeCommandOptions& options) {
  MergeOptions merge_options;
  merge_options.force = options.force;
  const MergeReport report = merge_databases(options.output, options.inputs, merge_options);

  std::printf("%-40s %10s %10s %10s %8s  %s\n", "input", "added", "duplicate", "conflict", "failed", "state");
  for (const auto& input : report.inputs)
    std::printf("%-40s %10lld %10lld %10lld %8lld  %s\n", input.path.c_str(), static_cast<long long>(input.added),
                static_cast<long long>(input.duplicates), static_cast<long long>(input.conflicts),
                static_cast<long long>(input.failed_rows), input.broken.empty() ? "merged" : "BROKEN");
  std::printf("%lld added, %lld duplicates, %lld conflicts into %s\n", static_cast<long long>(report.added()),
              static_cast<long long>(report.duplicates()), static_cast<long long>(report.conflicts()),
              options.output.c_str());
  for (const auto& [table, counts] : {std::pair{"model_evaluations", report.model_evaluations()},
                                      std::pair{"model_rollups", report.model_rollups()}})
    if (counts.added + counts.duplicates + counts.conflicts > 0)
      std::printf("%s: %lld added, %lld duplicates, %lld conflicts\n", table, static_cast<long long>(counts.added),
                  static_cast<long long>(counts.duplicates), static_cast<long long>(counts.conflicts));
  for (const auto& conflict : report.conflict_examples)
    print_error(conflict.input +
                ": conflict (same measurement, other figures; the merged row is kept): " + conflict.description);
  for (const auto& input : report.inputs)
    if (!input.broken.empty()) print_error(input.path + ": not merged, resubmit its shard: " + input.broken);
  return report.all_conflicts() > 0 || !report.broken().empty() ? 1 : 0;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto options = std::make_shared<MergeCommandOptions>();
  CLI::App* command = app.add_subcommand("merge", "Merge shard databases into one (idempotent)");
  command->add_option("--out", options->output, "Merged database (created, or added to)")->required();
  command->add_option("inputs", options->inputs, "Shard databases")->required();
  command->add_flag("--force", options->force, "Merge databases of different sweep specs (or of none)");
  return {command, [options] { return merge(*options); }};
}

}  // namespace nmscope::cli
