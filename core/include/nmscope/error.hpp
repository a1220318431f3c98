#pragma once
// One error type for everything a user can get wrong: its message is the one line the CLI prints and the GUI shows,
// "<subject>: <reason>", where subject names the file, tensor or setting at fault. Core names a setting in the
// domain (SettingError: "N:M patterns", "bits"); each front end says it the way its user typed it (the CLI's flag,
// the GUI's field).
#include <stdexcept>
#include <string>

namespace nmscope {

class Error : public std::runtime_error {
 public:
  Error(const std::string& subject, const std::string& reason)
      : std::runtime_error(subject.empty() ? reason : subject + ": " + reason), subject_(subject), reason_(reason) {}

  const std::string& subject() const noexcept { return subject_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string subject_;
  std::string reason_;
};

// The settings of a design point and of the runs around it, as core's errors name them.
enum class Setting {
  Pattern,
  Bits,
  Group,
  Granularity,
  Batch,
  Engines,
  Criterion,
  MaskCriterion,
  Quantizer,
  Weights,
  Activations,
  Calibration,
  Tokens,
  Model,
  Preset,
  Layers,
  ArraySize,
  FpgaClock,
  FpgaMemory,
  Context,
  LatencyBatch,
  ThroughputBatch,
  Shard,
  Shards,
  Partition,
  TimeLimit,
  GpusPerShard,
  Directory,
  Table,
  TimingBudget,
  KvCache,
};

// The setting's name in the domain, as the app's fields say it ("N:M patterns", "batch sizes").
const char* setting_name(Setting setting);

// A setting that cannot be used: bad usage, before any work (the CLI exits with 2).
class SettingError : public Error {
 public:
  SettingError(Setting setting, const std::string& reason) : Error(setting_name(setting), reason), setting_(setting) {}
  Setting setting() const noexcept { return setting_; }

 private:
  Setting setting_;
};

// Thrown when a cooperative cancellation flag was seen; never a user error.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace nmscope
