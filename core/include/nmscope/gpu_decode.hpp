#pragma once
// The GPU decode study (issue 9): a LLaMA-architecture decoder step (gpu_decoder.hpp) with every linear
// layer on one variant, synthetic LLM-like weights (or a model directory's real ones) compressed by nmscope's own
// pruning and quantization, timed beside the cuBLAS fp16 baseline in the same run, and each compressed model's
// logits checked against the baseline path (cuBLAS fp16) over the same compressed weights, dequantized.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nmscope/gpu_decoder.hpp"
#include "nmscope/model.hpp"
#include "nmscope/nm_pattern.hpp"

namespace nmscope {

inline constexpr const char* kDecodeBaseline = "gpu/cublas-fp16-dense";

// An engine name of the decode step: gpu/cublas-fp16-dense, gpu/cusparselt-fp16-2:4, gpu/int{b}-dense,
// gpu/int{b}-N:M (b = 2, 3, 4, 8; group-128 symmetric scales; N:M pruned by magnitude).
struct DecodeVariant {
  std::string engine;
  LinearKind kind = LinearKind::CublasFp16;
  NMPattern pattern;
  int bits = 16;
  // Throws SettingError(Setting::Engines, reason) on a name that is not one of the above.
  static DecodeVariant parse(const std::string& engine);
};

// "llama-7b" or "tiny"; throws SettingError(Setting::Preset, reason listing both) otherwise.
DecoderShape decoder_preset(const std::string& name);
// The same shape as core's model configuration (the CPU decoder step takes that).
ModelConfig decoder_model_config(const DecoderShape& shape);

// The decoder's linear weights for a variant: one synthetic LLM-like matrix per role (fixed seed; every block gets a
// copy on the device), compressed with nmscope's pruning and quantization; for own-kernel (gpu/int{b}-*) variants the
// synthetic embedding table as 4-bit codes + group-128 scales (docs/packed-format.md, "Token-embedding tables"; the
// fp16 variants leave the table to the device). `reference`, when given, receives the same compressed weights (and
// table) decoded back to W_hat for the baseline path (cuBLAS fp16): that variant's reference.
DecoderWeights build_decoder_weights(const DecoderShape& shape, const DecodeVariant& variant, uint64_t seed,
                                     DecoderWeights* reference = nullptr);

// The decoder shape of a model's configuration (sliding window included); `name` names it in messages.
DecoderShape decoder_shape_of(const ModelConfig& config, const std::string& name);

// A model directory's real weights for a variant (llama, mistral, qwen2, loaded as the CPU decoder loads them):
// every block its own q/k/v (fused, with qwen2's biases), o, gate/up (fused) and down, compressed as
// build_decoder_weights does; the head; the embedding table (4-bit codes + scales for own-kernel variants,
// docs/packed-format.md); the norm gains; RoPE frequencies with the model's scaling. `reference`: the same weights
// decoded for the baseline path. Throws Error naming the model when it is no decoder, its shape does not fit the
// step's kernels, or it has a bias the step does not add.
DecoderWeights build_model_decoder_weights(const Model& model, const DecodeVariant& variant,
                                           DecoderWeights* reference = nullptr);

struct DecodeStudyOptions {
  const Model* model = nullptr;  // real weights (shape = decoder_shape_of(its config)); null: synthetic
  DecoderShape shape;
  std::vector<std::string> engines;  // the baseline is added when missing
  std::vector<int64_t> batches;
  int64_t context = 512;
  uint64_t seed = 1;
  double timing_seconds = 0.5;
  bool kernel_trace = true;
  // The compressed variants' KV cache; the baseline and the reference paths keep fp16, so a variant's logits error
  // includes what an int8 cache costs and its speedup what it saves.
  KvCache kv_cache = KvCache::Fp16;
};

struct DecodeRow {
  std::string engine;
  int64_t batch = 0, context = 0;
  std::string status;  // ok, unavailable, failed
  std::string note;    // why not, when not ok
  DecodeRun run;
  double speedup = 0;              // tokens/s over the baseline's at this batch (0 when it has none)
  int64_t fp16_weight_bytes = 0;   // the same model with every linear layer fp16 dense
  double storage_ratio = 0;        // fp16_weight_bytes / run.weight_bytes
  double max_relative_error = -1;  // max |logit - reference| / max |reference| over the batch
  double relative_error = -1;      // ||logits - reference||_F / ||reference||_F
  double top1_agreement = -1;      // share of sequences whose argmax logit matches the reference's
  std::string reference;           // what the logits were checked against
};

// Runs every engine at every batch; `on_row` sees each row as soon as it is measured (the baseline's first).
std::vector<DecodeRow> run_decode_study(const DecodeStudyOptions& options,
                                        const std::function<void(const DecodeRow&)>& on_row = {});

}  // namespace nmscope
