#pragma once
// A study is layers x configurations x engines x batch sizes. The runner measures each combination, stores every
// measurement in the results database as soon as it is made (one transaction each), reports progress, and stops
// at the next safe point when cancelled. A bad source or tensor is reported and skipped; the rest are measured.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/measurement.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/quant_config.hpp"
#include "nmscope/timing.hpp"

namespace nmscope {

class ResultsStore;

struct StudySpec {
  std::vector<std::string> sources;       // files, model directories or synth specs
  std::vector<std::string> tensors;       // empty: every matrix of every source
  std::vector<NMPattern> patterns{NMPattern{2, 4}};
  std::vector<int> bits{4};
  Granularity granularity = Granularity::Group;
  int group = 128;
  bool symmetric = true;
  PruningCriterion criterion = PruningCriterion::Magnitude;
  std::string activations_path;           // .npy [tokens, K]; empty: synthetic evaluation activations
  std::string engines = "cpu";            // as EngineRegistry::select takes it; "none" for accuracy only
  EngineOptions engine_options;           // FPGA array sizes and clock
  std::vector<int> batches{1};
  TimingOptions timing;
  // Resume: measure only the jobs whose MeasurementKey the store does not already hold (ResultsStore::stored_keys).
  // The check comes before the work, so a tensor, pattern or configuration whose rows are all stored is not even
  // loaded, pruned or packed. Ignored without a store.
  bool skip_stored = false;
  // Model studies: each distinct layer shape is timed once per (configuration, engine, batch); the later layers of
  // that shape get the same engine figures, and their rows say which layer was timed (note, details_json "timed_on").
  // Accuracy and storage are still measured on every layer.
  bool time_once_per_shape = false;
  // JSON object members merged into the details_json of each row of that tensor (a model study's role and block).
  std::map<std::string, std::string> tensor_details;
  // Empty: a new id (new_study_id()). A sweep shard gives every study it runs its own one id.
  std::string study_id;
  // Empty: every (pattern, bits, engine, batch) of the cross product. Else only the jobs it accepts are measured,
  // counted and stored: a sweep shard runs its own points of a tensor in one study (one load, one pruning per pattern).
  std::function<bool(const NMPattern& pattern, int bits, const std::string& engine, int batch)> include_job;

  // Throws SettingError naming the setting at fault (Bits, Engines, ...) before anything is measured.
  void validate() const;
  QuantConfig quant_config(int bits) const;
};

struct StudyProgress {
  int64_t done = 0;
  int64_t total = 0;
  std::string current;   // "tensor  2:4 int4  cpu/eigen-fp32-dense b1"
};

struct StudyObserver {
  std::function<void(const Measurement&)> measured;    // fires after each row is stored
  std::function<void(const Error&)> skipped;           // fires for each source, tensor or job that was skipped
  std::function<void(const StudyProgress&)> progress;  // fires before each job and once at the end
};

struct StudySummary {
  std::string study_id;
  int64_t measurements = 0;
  int64_t skipped = 0;
  int64_t already_stored = 0;  // jobs left out because skip_stored found their rows in the store
  int64_t not_measured = 0;    // configurations that no engine of a requested family supports (reported, not skipped)
  bool cancelled = false;
  int64_t shapes_timed = 0;    // distinct (rows, cols) that an engine ran on
  int64_t timings_reused = 0;  // engine rows that took their figures from an earlier layer of the same shape
};

// `store` may be null (nothing is stored). Throws Error for an invalid spec (options, or an activations file that
// cannot be read: every tensor would need it), and when the store cannot write a row (disk full, read-only file,
// I/O error): the study stops there, naming the database, and every row stored before stays. Everything else is
// reported through the observer and counted.
StudySummary run_study(const StudySpec& spec, ResultsStore* store, const StudyObserver& observer,
                       const std::atomic<bool>* cancel = nullptr);

std::string new_study_id();

}  // namespace nmscope
