#pragma once
// A decode step as a results-database row, the form `nmscope-cli decode --db`, `reproduce hsieh2025` and the app's
// Decode view share. The row's configuration is the variant's (pattern and bits of every linear layer; the dense
// baselines are "dense" at 16 bits), its time one step (one token per sequence), its storage the whole model as
// stored (linear layers, head, embedding table, norm gains), its engine_rel_err the logits' error against the reference path; details_json carries
// "decode_step": true, the model, the context, tokens/s, the bytes a step reads and, when the GPU trace ran, the
// kernel-time breakdown.
#include <optional>
#include <string>

#include "nmscope/measurement.hpp"

namespace nmscope {

// Declared only: the GPU row's header reaches into kernels/cuda, which the app does not see.
struct CpuDecodeRun;  // cpu_decoder.hpp
struct DecodeRow;     // gpu_decode.hpp

// `model`: the preset name (synthetic weights) or the model directory (real weights).
Measurement decode_measurement(const CpuDecodeRun& run, const std::string& model, bool synthetic,
                               const std::string& study_id);
// An "ok" GPU row (others are not stored).
Measurement decode_measurement(const DecodeRow& row, const std::string& model, bool synthetic,
                               const std::string& study_id);

// What the Decode view reads back from a row; nullopt for a row that is not a decode step.
struct DecodeFigures {
  std::string model;
  int64_t context = 0;
  double ms_per_token = 0;
  double tokens_per_s = 0;
  double relative_error = -1;  // logits against the reference path; -1 when not checked (baselines)
  double top1_agreement = -1;
  std::string reference;
  // Kernel-time breakdown of one step (GPU trace); absent on the CPU or when the trace did not run.
  std::optional<double> linear_kernel_ms, attention_kernel_ms, other_kernel_ms, launch_gap_fraction;
};
std::optional<DecodeFigures> decode_figures(const Measurement& row);

}  // namespace nmscope
