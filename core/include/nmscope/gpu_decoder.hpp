#pragma once
// A LLaMA-architecture decoder step on the GPU (issue 9): embedding gather, RMSNorm, fused q/k/v projection, RoPE,
// grouped-query attention of the new token over an fp16 KV cache (split over the context, flash-decoding style),
// o projection, residual, RMSNorm, SwiGLU MLP (fused gate/up, down), final norm and head. Every linear layer runs on
// one variant: cuBLASLt fp16, cuSPARSELt fp16 2:4, or nmscope's own packed tensor-core kernels. The whole step is
// captured in one CUDA graph and replayed (core/src/decode/gpu). Plain host types only: the CLI includes it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nmscope {

// A packed layer's GPU re-layout (docs/gpu-kernels.md), built by the decode library and opaque outside it
// (core/src/decode/gpu/gpu_tiles.hpp): core's public headers carry no kernels types.
struct GpuTiles;

// The decoder's shape. The one place the LLaMA-7B numbers live; a model preset (resources/models/*.json) can
// fill the same struct later.
struct DecoderShape {
  std::string name;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t blocks = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;  // grouped-query attention: heads / kv_heads query heads share one key/value head
  int64_t head_dim = 0;  // hidden / heads
  int64_t vocab = 0;
  double rope_theta = 10000.0;
  double norm_epsilon = 1e-5;
  int64_t sliding_window = 0;  // mistral: the new token attends over the last sliding_window positions; 0: all

  // hidden 256, 2 blocks, 4 heads over 2 key/value heads of 64, intermediate 512, vocab 1024: the tests' shape.
  static DecoderShape tiny();
  // "" when the step's kernels can run this shape, else why not.
  std::string unsupported_reason() const;
  int64_t qkv_rows() const { return (heads + 2 * kv_heads) * head_dim; }
};

// The linear layers of one block, fused where their inputs are the same: q/k/v in one matrix (rows q, then k, then
// v), gate/up in one (rows gate, then up); and the head after the final norm.
enum class LinearRole { Qkv, Output, GateUp, Down, Head };
inline constexpr int kLinearRoles = 5;
const char* linear_role_name(LinearRole role);

enum class LinearKind { CublasFp16, CusparseltFp16, Packed };

// One role's weights as the host hands them over; every block gets its own device copy of them (the storage and
// the bytes each step reads are those of `blocks` distinct copies).
struct LinearWeights {
  LinearKind kind = LinearKind::CublasFp16;
  int64_t rows = 0, cols = 0;
  std::vector<float> dense;               // CublasFp16 / CusparseltFp16: W_hat [rows, cols], rounded to fp16 on upload
  std::shared_ptr<const GpuTiles> tiles;  // Packed
};

// The token-embedding table [vocab, hidden] as the step reads it: fp16, or 4-bit codes with fp16 scales per 128
// columns (docs/packed-format.md, "Token-embedding tables"; core's EmbeddingTable builds it).
struct EmbeddingWeights {
  bool quantized = false;
  std::vector<float>
      dense;  // !quantized: rounded to fp16 on upload; empty: the synthetic table (decoder_synthetic.hpp)
  std::vector<uint8_t> codes;    // quantized: [vocab, hidden / 2], column 2i in the low nibble of byte i
  std::vector<uint16_t> scales;  // quantized: fp16 bits, [vocab, ceil(hidden / 128)]
  // What the device holds: codes + scales, or 2 bytes per value.
  int64_t storage_bytes(const DecoderShape& shape) const;
  // What a step reads of it: the rows of `batch` tokens.
  int64_t row_bytes(const DecoderShape& shape) const;
};

struct DecoderWeights {
  DecoderShape shape;
  std::vector<LinearWeights> linears;  // indexed by LinearRole; each block gets a device copy of roles 0..3
  // A model's real weights: each block's own q/k/v, o, gate/up and down at [block * 4 + role]; when set, only the
  // head of `linears` is used.
  std::vector<LinearWeights> block_linears;
  EmbeddingWeights embedding;
  std::vector<float> norm_gains;  // [2 blocks + 1][hidden]: attention and MLP norm per block, then the final one;
                                  // empty: synthetic gains (decoder_synthetic.hpp)
  std::vector<float> qkv_bias;    // [blocks][qkv_rows] added to the fused q/k/v output (qwen2); empty: none
  std::vector<float> rope_inverse_frequencies;  // [head_dim / 2] (rope scaling folded in); empty: theta^(-2i/D)
  uint64_t seed = 1;  // synthetic contents (embeddings, gains when not given), the KV cache and the tokens

  const LinearWeights& linear(LinearRole role, int64_t block) const {
    return block_linears.empty() || role == LinearRole::Head ? linears[size_t(role)]
                                                             : block_linears[size_t(block * 4 + int(role))];
  }
};

// What the KV cache holds: fp16 keys and values, or int8 codes with one fp32 scale per row of head_dim values
// (absmax / 127: docs/gpu-kernels.md, "int8 KV cache"), half the bytes the attention reads.
enum class KvCache { Fp16, Int8 };
const char* kv_cache_name(KvCache cache);  // "fp16", "int8"
// "fp16" or "int8"; throws SettingError(Setting::KvCache, reason) otherwise.
KvCache parse_kv_cache(const std::string& text);
// Bytes one cached row of head_dim keys (or values) takes.
int64_t kv_cache_row_bytes(KvCache cache, int64_t head_dim);

struct DecodeCase {
  int64_t batch = 1;
  int64_t context = 512;  // tokens already in the KV cache; the step attends over context + 1
  KvCache kv_cache = KvCache::Fp16;
};

struct DecodeTiming {
  int warmup = 3;
  int min_repetitions = 10;
  int max_repetitions = 200;
  double target_seconds = 0.5;
  bool kernel_trace = true;  // per-kernel times through CUPTI (launch gaps)
  bool keep_logits = true;
};

struct DecodeRun {
  bool ok = false;
  std::string error;  // why not, when !ok (e.g. "needs 140.2 GB of GPU memory, 79.1 GB free")
  int64_t batch = 0, context = 0;
  KvCache kv_cache = KvCache::Fp16;
  double step_ms = 0, p10_ms = 0, p90_ms = 0;  // one decode step (one token per sequence), CUDA-graph replays
  int repetitions = 0;
  double tokens_per_s = 0;       // batch / step time
  int64_t weight_bytes = 0;      // the model as it sits on the device: linear weights (scales, metadata included),
                                 // the embedding table (fp16, or 4-bit codes + scales), fp16 norm gains
  int64_t linear_bytes = 0;      // of which the linear layers and head
  int64_t kv_bytes_read = 0;     // KV cache the step reads (context + 1 tokens)
  int64_t step_bytes = 0;        // bytes the step must read: every linear weight, the gathered embedding rows, the
                                 // norm gains and the KV cache
  double achieved_gb_per_s = 0;  // step_bytes / step time
  int64_t required_bytes = 0;    // GPU memory this case needs
  // Kernel trace of one replay (CUPTI): how long kernels ran, how long at least one ran, and the span from the
  // first start to the last end; launch gaps = 1 - busy / span. Empty reason when traced.
  int kernels = 0;
  double kernel_sum_ms = 0, kernel_busy_ms = 0, kernel_span_ms = 0, launch_gap_fraction = -1;
  double linear_kernel_ms = 0, attention_kernel_ms = 0, other_kernel_ms = 0;
  std::string trace_error;
  std::string config;         // what ran: per role, the plan or algorithm chosen
  std::vector<float> logits;  // [batch][vocab] from an untimed step on NaN-poisoned logits
};

// Runs every case on these weights: uploads them once, then per case builds the KV cache, chooses each layer's
// plan, captures the step and times it. No device, too little memory, a library missing: each run says why.
std::vector<DecodeRun> run_decoder(const DecoderWeights& weights, const std::vector<DecodeCase>& cases,
                                   const DecodeTiming& timing);

// A model's sequences decoded token by token from an empty KV cache (the step without a graph or timing, at every
// position): tokens [positions][batch], logits [positions][batch][vocab]. The check of a model's real weights
// against the CPU decoder at every position.
struct TokenDecodeRun {
  bool ok = false;
  std::string error;
  std::vector<float> logits;
  std::string config;
};
TokenDecodeRun decode_tokens(const DecoderWeights& weights, int64_t batch, const std::vector<int64_t>& tokens);

// Free GPU memory now (0 without a device).
int64_t gpu_free_bytes();
// GPU memory a case needs on these weights (weights, KV cache, activations, workspaces), without a device.
int64_t decoder_required_bytes(const DecoderShape& shape, const std::vector<int64_t>& linear_bytes_per_block,
                               const DecodeCase& decode_case);

}  // namespace nmscope
