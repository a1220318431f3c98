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
#include "nmscope/model_records.hpp"
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

// Rolls the per-layer rows up. `layers` gives each tensor's role; rows of other tensors are ignored.
std::vector<ModelRollupRow> rollup_model_study(const std::vector<ModelLayer>& layers,
                                               const std::vector<Measurement>& rows, const std::string& model);

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
