#pragma once
// A design-space sweep described once in a file (sweep.json), to be cut into shards that run anywhere: sources x
// tensors x criteria x patterns x bits x engines x batch sizes. Parsed strictly, so a typo is refused before a
// cluster spends hours on the wrong sweep. The format is in README.md ("Sweeps and merge").
#include <string>
#include <vector>

#include "nmscope/engine_registry.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/quant_config.hpp"
#include "nmscope/study.hpp"

namespace nmscope {

struct SweepSpec {
  std::vector<std::string> sources;  // any location open_weight_source takes; "presets" become "synth:NAME"
  std::string tensor_regex;          // searched in each matrix's name; empty: every matrix
  std::vector<NMPattern> patterns{NMPattern{2, 4}};
  std::vector<int> bits{4};
  Granularity granularity = Granularity::Group;
  int group = 128;
  bool symmetric = true;
  std::vector<PruningCriterion> criteria{PruningCriterion::Magnitude};
  std::vector<std::string> engines{"cpu"};  // variant or family names as EngineRegistry::select takes them; "none"
  std::vector<int> batches{1};
  EngineOptions engine_options;  // FPGA array sizes and clock
  double timing_seconds = 0.3;
  std::string activations_path;
  // Hex hash of the spec's canonical JSON (keys sorted, whitespace dropped): what every shard database records, so
  // merge can tell shards of one sweep from another's. Lists keep their order: it fixes the points' order.
  std::string hash;

  std::string engine_list() const;  // engines joined with ',' for EngineRegistry::select
  QuantConfig quant_config(int bits) const;
};

// Reads and checks a sweep file. Throws Error(path, reason) naming the key, pattern, engine or bit width at fault.
SweepSpec read_sweep_spec(const std::string& path);
// The same from text; `subject` names it in errors.
SweepSpec parse_sweep_spec(const std::string& json_text, const std::string& subject);

// A study (as the GUI's Study pane builds it) as sweep.json text, so that it can run sharded on a cluster: the
// chosen tensors become an anchored alternation of their exact names. Throws Error for a study no spec can state
// (no source); parse_sweep_spec checks the rest.
std::string sweep_spec_json(const StudySpec& study);

}  // namespace nmscope
