#pragma once
// The rollup of a model study (model_layer_study.hpp): per configuration, engine and batch, the whole model's linear
// layers added up (storage, per-token time, error summary) and the same per layer role. Every figure is computed from
// the per-layer measurement rows, which stay in the database beside it under the same study_id.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nmscope/engine_family.hpp"
#include "nmscope/measurement.hpp"
#include "nmscope/model.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

// One compressible layer of the study: its tensor, role name ("attn.q", ...) and block.
struct ModelLayer {
  std::string tensor;
  std::string role;
  int64_t block = -1;
  int64_t rows = 0;
  int64_t cols = 0;
};

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

struct ModelRollupRow {
  std::string study_id;
  std::string created_at;  // set by the store when empty
  std::string model;       // the directory or preset as the user named it
  std::string source;      // the per-layer rows' source (directory or synth: spec)
  // configuration, as the per-layer rows spell it
  std::string pattern;
  int bits = 16;
  std::string granularity;
  int quant_group = 0;
  bool symmetric = true;
  std::string criterion;
  std::string engine;  // "none" when no engine ran
  int batch = 0;
  std::string role;    // "all", or one role ("attn.q", ..., "mlp.down")
  // sums over the role's layers
  int64_t layers = 0;
  int64_t weight_count = 0;
  int64_t storage_bytes = 0;  // from the packed buffers, to the byte
  int64_t fp16_bytes = 0;     // 2 bytes per weight: the reference of compression ratios
  double compression_vs_fp16 = 0;
  // error summary over the layers
  double mean_weight_rel_err = 0;
  double max_weight_rel_err = 0;
  double mean_output_rel_err = 0;
  double max_output_rel_err = 0;
  double min_sqnr_db = 0;
  // time (NaN where not measured: no engine, or a layer without a time)
  double time_us = kNotMeasured;             // sum of the layers' median times at this batch
  double time_per_token_us = kNotMeasured;   // time_us / batch
  std::string baseline;                      // the dense baseline, e.g. "cpu/eigen-fp32-dense", "fpga/systolic-16x16 dense"
  double baseline_time_per_token_us = kNotMeasured;
  double speedup = kNotMeasured;             // baseline / this, same layers, same batch
  int64_t shapes_timed = 0;                  // distinct shapes among the layers whose own time was measured
  int64_t layers_timed = 0;                  // layers with their own timing (the others reuse one of the same shape)
  std::string note;                          // why a figure is missing
};

// Rolls the per-layer rows up. `layers` gives each tensor's role; rows of other tensors are ignored.
std::vector<ModelRollupRow> rollup_model_study(const std::vector<ModelLayer>& layers,
                                               const std::vector<Measurement>& rows, const std::string& model);

// The whole model, everything counted, as the decode steps store it: role "model", one per "all" row.
inline constexpr const char* kWholeModelRole = "model";

// What a decoder stores beside its q/k/v/o/gate/up/down layers for one configuration: the head compressed like them
// (the packed format's bytes), the token-embedding table (4-bit codes + group-128 fp16 scales when the configuration
// quantizes, else fp16: docs/packed-format.md, "Token-embedding tables"), and the norm gains (fp16).
struct WholeModelStorage {
  int64_t head_bytes = 0;
  int64_t embedding_bytes = 0;
  int64_t norm_bytes = 0;
  int64_t fp16_bytes = 0;  // the same three all fp16
};
WholeModelStorage whole_model_storage(const ModelConfig& config, const NMPattern& pattern, const QuantConfig& quant);
// A decoder's every byte for one configuration, without weights: its q/k/v/o/gate/up/down layers in the packed
// format (for 2:4 and dense INT-b with group-128 scales on 128-multiple shapes, exactly their GPU tiles' bytes)
// plus whole_model_storage(); and the same model all fp16.
struct DecoderModelBytes {
  int64_t bytes = 0;
  int64_t fp16_bytes = 0;
};
DecoderModelBytes decoder_model_bytes(const ModelConfig& config, const NMPattern& pattern, const QuantConfig& quant);

// For a decoder (and a study of all its linear layers): appends to `rollup`, per "all" row, a "model" row whose
// storage and fp16 bytes add whole_model_storage() to the linear layers'; its time fields are not measured.
void append_whole_model_rows(std::vector<ModelRollupRow>& rollup, const ModelConfig& config);

}  // namespace nmscope
