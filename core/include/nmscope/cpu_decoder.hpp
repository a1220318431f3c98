#pragma once
// A LLaMA-architecture decoder step on the CPU (issue 9): the new token of each sequence through every block
// (RMSNorm, q/k/v, RoPE at its position, grouped-query attention over a KV cache, o, SwiGLU MLP), the final norm and
// the head, with every linear layer on one CPU engine variant: cpu/eigen-fp32-dense (the baseline, Eigen over fp32
// weights), cpu/onednn-bf16-dense (oneDNN's bf16 matmul, AMX / AVX-512 BF16 where present: the stronger dense
// baseline) or cpu/int{b}-{pattern} (nmscope's packed kernels, kernels/cpu, straight from the packed format). The GPU
// decoder (gpu_decoder.hpp) is its counterpart; this one runs any preset or model directory, slowly at 7B.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nmscope/embedding_table.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/model.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/timing.hpp"

namespace nmscope {

inline constexpr const char* kCpuDecodeBaseline = "cpu/eigen-fp32-dense";
inline constexpr const char* kCpuDecodeOneDnn = "cpu/onednn-bf16-dense";

// What a packed variant's kernels multiply its weights with (docs/ACCURACY.md, "CPU decode: activation precision"):
// fp32 as they are (the fp32 kernel: dense and 2:4 / 4:8 formats, the reference's logits; other formats fall back to
// the bf16 pair), where the CPU has AVX-512 BF16 a bf16 pair (x = high + low, 16 significant bits: the reference's
// logits to 1e-4) or bf16 (about 1 % on real and synthetic models), or int8 per 128 columns (the VNNI kernels:
// 1.5-25 %).
enum class DecodeActivations { Fp32, Bf16Pair, Bf16, Int8 };
std::string decode_activations_name(DecodeActivations activations);  // "fp32", "bf16x2", "bf16", "int8"
// "fp32", "bf16x2", "bf16" or "int8"; throws SettingError(Setting::Engines, reason) otherwise.
DecodeActivations parse_decode_activations(const std::string& text);

// An engine name of the CPU decode step: cpu/eigen-fp32-dense, cpu/onednn-bf16-dense, or cpu/int{b}-dense /
// cpu/int{b}-N:M (b = 2, 3, 4, 8; group-128 symmetric scales; magnitude N:M).
struct CpuDecodeVariant {
  std::string engine;
  bool packed = false;
  bool onednn = false;  // the fp32 weights rounded to bf16 for oneDNN's matmul
  NMPattern pattern = NMPattern::dense();
  int bits = 16;
  DecodeActivations activations = DecodeActivations::Fp32;  // packed variants only
  // Throws SettingError(Setting::Engines, reason) on any other name.
  static CpuDecodeVariant parse(const std::string& engine);
};

class OneDnnLinear;  // core/src/decode/onednn_linear.hpp

// One linear layer as the step multiplies by it: packed (the kernels), bf16 on oneDNN, or fp32 dense (Eigen), optional
// bias.
struct CpuLinear {
  std::shared_ptr<const PackedMatrix> packed;  // set for packed variants
  std::shared_ptr<const MatrixF> dense;        // set for the dense paths (oneDNN's fp32 source and reference)
  std::shared_ptr<const OneDnnLinear> onednn;  // set for cpu/onednn-bf16-dense
  VectorF bias;                                // empty when none (qwen2 has q/k/v biases)
  int64_t rows() const;
  int64_t cols() const;
  int64_t storage_bytes() const;  // packed bytes, or 2 bytes per weight for the fp16 / bf16 baselines
  int64_t read_bytes() const;     // what a step reads: packed bytes, 2 per weight on oneDNN, 4 on the fp32 path
};

class CpuDecoder {
 public:
  // Real weights: every linear layer of the model (the head too, as the GPU step does) compressed for the variant,
  // and for a packed variant the embedding table quantized (embedding_table.hpp). Decoders only (llama, mistral,
  // qwen2); throws Error naming the model otherwise.
  static CpuDecoder from_model(const Model& model, const CpuDecodeVariant& variant);
  // Synthetic LLM-like weights for a shape: one matrix per role (fixed seed) that every block multiplies by, so a
  // 7B shape fits in memory; a layer is larger than the last-level cache, so each block still streams it from DRAM.
  static CpuDecoder synthetic(const ModelConfig& shape, const CpuDecodeVariant& variant, uint64_t seed);

  // The same compressed weights decoded back to fp32 on the dense path: the reference a compressed step is checked
  // against (for the dense baseline itself: a copy).
  CpuDecoder dequantized() const;

  // Empties the KV cache for `batch` sequences of up to `capacity` tokens.
  void reset(int64_t batch, int64_t capacity);
  // Fills the first `context` positions of every sequence's cache with synthetic keys and values (fixed seed), as
  // if a prompt had been read; the next step attends over context + 1 positions.
  void fill_cache(int64_t context, uint64_t seed);
  // Fills the first `context` positions by running the model itself over `context` token ids drawn from `seed` (one
  // step per position): the keys and values a real prompt leaves. A real model's attention over N(0,1) keys is in no
  // regime it was trained for, and there a step's logits turn on rounding (SmolLM2: bf16 activations alone moved
  // them by 6 %), so a real model's error is measured from a cache like this one.
  void prefill(int64_t context, uint64_t seed);
  // Takes `source`'s cache (same shape, batch and capacity): two decoders then step from the same state.
  void copy_cache_from(const CpuDecoder& source);
  // Synthetic weights (one block serving every block), as opposed to a model's.
  bool synthetic() const { return share_blocks_; }
  // One decode step: token ids [batch] at position length(), appended to the cache; returns logits [batch, vocab].
  MatrixF step(const std::vector<int64_t>& tokens);
  // Forgets the positions from `length` on (<= length()): timing repeats one step at a fixed context this way.
  void rewind(int64_t length);
  int64_t length() const { return length_; }
  int64_t batch() const { return batch_; }

  const ModelConfig& shape() const { return shape_; }
  const std::string& engine() const { return engine_; }
  // Bytes of all linear layers as stored (blocks distinct copies for synthetic weights), and with fp16 weights.
  int64_t linear_bytes() const;
  int64_t fp16_linear_bytes() const;
  // The whole model as stored: linear layers and head, the embedding table (4-bit codes + scales for a packed
  // variant, else fp16) and the norm gains (fp16); and the same model all fp16.
  int64_t model_bytes() const;
  int64_t fp16_model_bytes() const;
  const EmbeddingTable& embeddings() const { return embeddings_; }
  // What a step reads: every linear layer as held (packed, or fp32 on the dense path), and the norms, the KV cache
  // at `context` and the batch's embedding rows (fp32, as this step holds them).
  int64_t linear_read_bytes() const;
  int64_t other_bytes(int64_t context) const;
  // The kernels that run ("avx512-bf16", "avx512-vnni-vbmi", "reference", "eigen", "onednn <implementation>").
  std::string isa() const;
  // What the linear layers multiply with: "bf16", "int8 per 128 columns", "fp32".
  std::string activation_text() const;

 private:
  struct Block {
    CpuLinear q, k, v, o, gate, up, down;
    VectorF attention_norm, mlp_norm;
  };
  CpuDecoder() = default;
  MatrixF multiply(const CpuLinear& linear, const MatrixF& x) const;
  void attend(int64_t block, const MatrixF& q, const MatrixF& k, const MatrixF& v, MatrixF& context);

  ModelConfig shape_;
  std::string engine_;
  DecodeActivations activations_ = DecodeActivations::Fp32;
  bool share_blocks_ = false;  // synthetic: blocks_[0] serves every block
  std::vector<Block> blocks_;
  CpuLinear head_;
  EmbeddingTable embeddings_;  // [vocab, hidden]
  VectorF final_norm_;
  VectorF inverse_frequency_;
  // KV cache: [blocks][batch][kv_heads][capacity][head_dim], keys and values.
  std::vector<float> keys_, values_;
  int64_t batch_ = 0, capacity_ = 0, length_ = 0;
};

// One timed decode step of a CPU variant at (batch, context), and its logits checked against `reference` (the same
// weights dequantized on the dense path; null for the dense baseline itself) from the same cache and tokens.
struct CpuDecodeRun {
  std::string engine;
  std::string isa;
  std::string activations;  // what the linear layers multiplied with (activation_text)
  int64_t batch = 0, context = 0;
  TimingStats step;                 // one step: one token per sequence
  double tokens_per_second = 0;     // batch / median step time
  int64_t linear_bytes = 0;         // every linear layer as stored (head included)
  int64_t fp16_linear_bytes = 0;    // the same layers as fp16
  int64_t model_bytes = 0;          // the whole model as stored: linear layers, embedding table, norm gains
  int64_t fp16_model_bytes = 0;     // the same model all fp16
  int64_t bytes_read = 0;           // per step: linear layers as held + norms + KV cache + embedding rows
  double bandwidth_gbs = 0;         // bytes_read / median step time
  double relative_error = 0;        // ||logits - reference||_F / ||reference||_F
  double top1_agreement = 1;        // share of sequences whose argmax matches the reference's
  std::string reference;            // what the logits were checked against
  std::string cache;                // what the cache the step attends over holds
};

CpuDecodeRun time_cpu_decode(CpuDecoder& decoder, CpuDecoder* reference, int64_t batch, int64_t context,
                             const TimingOptions& timing, uint64_t seed, const std::atomic<bool>* cancel = nullptr);

// What timing a decode step on the CPU holds at its peak, from the shape alone (checked before any work): the fp32
// weights resident (one block for synthetic weights, whose blocks share it; every block for a model's), a checked
// variant's own copy of the weights (packed, or bf16 for oneDNN) beside the fp32 reference it is checked against, and
// an fp32 KV cache of `context` + 1 positions for the decoder and for the reference.
struct CpuDecodeMemory {
  int64_t fp32_weights = 0;
  int64_t packed_weights = 0;  // the checked variant's own copy; 0 for the Eigen baseline alone
  int64_t kv_caches = 0;
  int64_t total() const { return fp32_weights + packed_weights + kv_caches; }
};
// `copy_bits`: bits per weight of the largest checked variant's own copy (16 for oneDNN bf16, 8 for any packed
// variant: its codes, metadata and scales stay within a quarter of fp32), 0 when only the Eigen baseline runs.
CpuDecodeMemory estimate_cpu_decode_memory(const ModelConfig& config, bool shared_blocks, int copy_bits, int64_t batch,
                                           int64_t context);
// The copy_bits of a list of CPU decode engines (the largest).
int cpu_decode_copy_bits(const std::vector<std::string>& engines);

}  // namespace nmscope
