#pragma once
// The compression options that forward and model-eval share (--pattern, --bits, --group, --per-channel,
// --per-tensor, --asym, --criterion, --quantizer, --calib), registered once so both commands spell and check them
// alike.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "nmscope/model_compression.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

struct ModelCompressionOptions {
  std::string pattern;  // empty with bits empty: no compression (fp32 as loaded)
  std::string bits;
  int group = 128;
  bool per_channel = false;
  bool per_tensor = false;
  bool asymmetric = false;
  std::string criterion = "magnitude";
  std::string quantizer = "rtn";
  std::string calibration;  // .npy token ids; empty: the built-in set

  void add_to(CLI::App& command);
  bool requested() const { return !pattern.empty() || !bits.empty(); }
  // Usage the options cannot check one by one: --criterion, --quantizer and --calib shape a compression, so without
  // --pattern or --bits they would be ignored; refused instead (UsageError("--criterion", ...), exit 2).
  void check_usage() const;
  // Throws Error("--pattern" / "--bits" / ...) on a bad value. Pattern defaults to dense, bits to 16.
  ModelCompressionSettings settings() const;
  // The user's calibration ids, else the built-in set (builtin_calibration), checked against the model.
  TokenIds calibration_tokens(const Model& model) const;

 private:
  CLI::Option* criterion_option_ = nullptr;
  CLI::Option* quantizer_option_ = nullptr;
  CLI::Option* calibration_option_ = nullptr;
};

}  // namespace nmscope::cli
