#pragma once
// The rows a model study stores beside its per-layer measurements: the rollup of a model study (model_rollup.hpp) and
// the record of a whole-model evaluation (model_study.hpp). Plain values, owned by the store (results_store.hpp reads
// and writes them), so the store does not depend on the studies that fill them.
#include <cstdint>
#include <limits>
#include <string>

#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

struct ModelRollupRow {
  std::string study_id;
  std::string created_at;  // set by the store when empty
  std::string model;       // the directory or preset as the user named it
  std::string source;      // the per-layer rows' source (directory or synth: spec)
  // configuration, as the per-layer rows carry it (canonical: quant.canonical())
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant = QuantConfig::fp16();
  std::string criterion;
  std::string engine;  // "none" when no engine ran
  int batch = 0;
  std::string role;  // "all", or one role ("attn.q", ..., "mlp.down")
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
  double time_us = kNotMeasured;            // sum of the layers' median times at this batch
  double time_per_token_us = kNotMeasured;  // time_us / batch
  std::string baseline;  // the dense baseline, e.g. "cpu/eigen-fp32-dense", "fpga/systolic-16x16 dense"
  double baseline_time_per_token_us = kNotMeasured;
  double speedup = kNotMeasured;  // baseline / this, same layers, same batch
  int64_t shapes_timed = 0;       // distinct shapes among the layers whose own time was measured
  int64_t layers_timed = 0;       // layers with their own timing (the others reuse one of the same shape)
  std::string note;               // why a figure is missing
};

// The whole model, everything counted, as the decode steps store it: role "model", one per "all" row.
inline constexpr const char* kWholeModelRole = "model";

struct ModelEvaluationRecord {
  std::string study_id;
  std::string created_at;  // ISO-8601 UTC, set by the store when empty
  std::string model;       // the directory as the user named it
  std::string model_type;  // config.json's model_type
  std::string family;      // "decoder" / "encoder"
  // configuration (dense fp16, criterion "none" for the dense point; canonical: quant.canonical())
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant = QuantConfig::fp16();
  std::string criterion;
  std::string quantizer;
  std::string calibration;  // token file, or "built-in SxT"; empty when the method needs none
  std::string evaluation;   // token file
  int64_t eval_sequences = 0;
  int64_t eval_tokens = 0;  // per sequence
  // storage of the compressed linear layers (embeddings and head excluded)
  int64_t storage_bytes = 0;
  int64_t weight_count = 0;
  double bits_per_weight = 0;
  // figures (NaN where the family has none; stored as NULL)
  double dense_perplexity = std::numeric_limits<double>::quiet_NaN();
  double perplexity = std::numeric_limits<double>::quiet_NaN();
  double mean_kl = std::numeric_limits<double>::quiet_NaN();
  double top1_agreement = std::numeric_limits<double>::quiet_NaN();
  double mean_cosine = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;  // compression + evaluation wall time
  std::string note;    // fallbacks taken (singular Hessians), empty when none
  std::string host;
  std::string build;
};

}  // namespace nmscope
