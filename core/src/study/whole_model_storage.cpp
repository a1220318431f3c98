// The rollup's whole-model rows (model_rollup.hpp, append_whole_model_rows): what a decoder stores beside its
// linear layers, counted as the decode steps count it.
#include "nmscope/embedding_table.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

WholeModelStorage whole_model_storage(const ModelConfig& config, const NMPattern& pattern, const QuantConfig& quant) {
  WholeModelStorage storage;
  const bool quantized = !quant.is_fp16();
  storage.head_bytes = packed_storage_bytes(config.vocab, config.hidden, pattern, quant);
  storage.embedding_bytes = embedding_storage_bytes(config.vocab, config.hidden, quantized);
  storage.norm_bytes = 2 * (2 * config.blocks + 1) * config.hidden;
  storage.fp16_bytes = 2 * config.vocab * config.hidden * 2 + storage.norm_bytes;
  return storage;
}

DecoderModelBytes decoder_model_bytes(const ModelConfig& config, const NMPattern& pattern, const QuantConfig& quant) {
  const int64_t h = config.hidden, q = config.heads * config.head_dim, kv = config.kv_heads * config.head_dim;
  const int64_t i = config.intermediate;
  const std::pair<int64_t, int64_t> layers[] = {{q, h}, {kv, h}, {kv, h}, {h, q}, {i, h}, {i, h}, {h, i}};
  DecoderModelBytes total;
  for (const auto& [rows, cols] : layers) {
    total.bytes += config.blocks * packed_storage_bytes(rows, cols, pattern, quant);
    total.fp16_bytes += config.blocks * 2 * rows * cols;
  }
  const WholeModelStorage beside = whole_model_storage(config, pattern, quant);
  total.bytes += beside.head_bytes + beside.embedding_bytes + beside.norm_bytes;
  total.fp16_bytes += beside.fp16_bytes;
  return total;
}

void append_whole_model_rows(std::vector<ModelRollupRow>& rollup, const ModelConfig& config) {
  if (config.family != ModelFamily::Decoder) return;
  std::vector<ModelRollupRow> added;
  for (const ModelRollupRow& all : rollup) {
    if (all.role != "all") continue;
    const WholeModelStorage beside = whole_model_storage(config, all.pattern, all.quant);
    ModelRollupRow row = all;
    row.role = kWholeModelRole;
    row.layers = all.layers + 1;  // the head
    row.weight_count = all.weight_count + config.vocab * config.hidden;
    row.storage_bytes = all.storage_bytes + beside.head_bytes + beside.embedding_bytes + beside.norm_bytes;
    row.fp16_bytes = all.fp16_bytes + beside.fp16_bytes;
    row.compression_vs_fp16 = double(row.fp16_bytes) / double(row.storage_bytes);
    row.note = "storage only: linear layers as measured, the head packed like them, the embedding table (" +
               std::string(beside.embedding_bytes < config.vocab * config.hidden * 2 ? "4-bit codes + group-128 scales"
                                                                                     : "fp16") +
               ") and the norm gains (fp16)";
    // Times and errors stay the linear layers' ("all"); this row adds storage only.
    row.time_us = row.time_per_token_us = row.baseline_time_per_token_us = row.speedup = kNotMeasured;
    row.baseline.clear();
    added.push_back(std::move(row));
  }
  rollup.insert(rollup.end(), added.begin(), added.end());
}

}  // namespace nmscope
