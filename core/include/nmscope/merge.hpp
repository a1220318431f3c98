#pragma once
// Merging results databases (sweep shards) into one. Idempotent: a row whose measurement key (source, content hash,
// tensor, configuration, engine variant, batch, host class) is already in the output is not added again; equal
// figures count as a duplicate, different ones as a conflict, and neither is resolved silently. The model tables
// (model_evaluations, model_rollups) are merged the same way, each with its own key. The whole merge is one
// transaction (each input under its own savepoint), so a killed merge leaves the output as it was before it.
#include <cstdint>
#include <string>
#include <vector>

namespace nmscope {

struct MergeOptions {
  bool force = false;  // merge inputs of different sweep specs (or of none) anyway
};

struct MergeConflict {
  std::string input;
  std::string description;  // "tensor  pattern  int4  engine  b8  (host class)"
};

// The rows of one model table (model_evaluations, model_rollups), told apart as measurements are: same key and
// figures is a duplicate, same key and other figures a conflict. A model_evaluations row's key is the model, the
// configuration (pattern, bits, grid, criterion, quantizer), the token files and counts, and the host class; a
// model_rollups row's is the model, its source, the configuration, engine, batch and role (rollups carry no host).
struct MergeCounts {
  int64_t added = 0;
  int64_t duplicates = 0;
  int64_t conflicts = 0;
};

struct MergeInputReport {
  std::string path;
  std::string broken;  // non-empty: not merged, and why (failed integrity check, unreadable); resubmit it
  int64_t added = 0;        // measurements
  int64_t duplicates = 0;   // same key and figures as a row already merged
  int64_t conflicts = 0;    // same key, different figures: the row already merged is kept
  int64_t failed_rows = 0;  // status "failed": left out, a resumed shard measures them again
  int64_t shard_runs = 0;   // sweep_shards rows copied
  MergeCounts model_evaluations;
  MergeCounts model_rollups;
};

struct MergeReport {
  std::vector<MergeInputReport> inputs;
  std::vector<MergeConflict> conflict_examples;  // the first few, for the message (measurements and model rows)
  // Measurements only; the model tables have their own totals.
  int64_t added() const;
  int64_t duplicates() const;
  int64_t conflicts() const;
  MergeCounts model_evaluations() const;
  MergeCounts model_rollups() const;
  // Conflicts in any table: what makes `merge` exit 1.
  int64_t all_conflicts() const;
  std::vector<std::string> broken() const;
};

// The host class of a row's host description ("hostname | CPU model | N cores"): everything but the host name, so
// the nodes of one partition share it and a time measured on another kind of machine is another measurement.
std::string host_class(const std::string& host);

// Creates or migrates `output` (as ResultsStore does) and merges every input into it. Throws Error naming the input
// before anything is written when an input does not exist, is not an nmscope database, has a newer schema, or (unless
// options.force) comes from another sweep spec than the rest or than the output's. An input that fails SQLite's
// integrity check or cannot be read is reported in MergeInputReport::broken and the rest are merged.
MergeReport merge_databases(const std::string& output, const std::vector<std::string>& inputs,
                            const MergeOptions& options = {});

}  // namespace nmscope
