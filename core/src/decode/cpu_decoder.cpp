// The CPU decoder step (cpu_decoder.hpp). The math is the reference forward pass's (model/transformer_math), one
// position at a time over a KV cache; only the linear layers change with the variant.
#include "nmscope/cpu_decoder.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "decode/decoder_tensors.hpp"
#include "decode/onednn_linear.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "model/transformer_math.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/error.hpp"
#include "nmscope/kernels/nm_gemm.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope {

namespace {

CpuLinear make_linear(MatrixF weights, const CpuDecodeVariant& variant, VectorF bias = {}) {
  CpuLinear linear;
  linear.bias = std::move(bias);
  if (!variant.packed) {
    linear.dense = std::make_shared<const MatrixF>(std::move(weights));
    if (variant.onednn) linear.onednn = std::make_shared<const OneDnnLinear>(linear.dense);
    return linear;
  }
  const NMSelection selection = select_nm(weights, variant.pattern, PruningCriterion::Magnitude);
  linear.packed =
      std::make_shared<const PackedMatrix>(compress(weights, selection, decode::decoder_quant(variant.bits)));
  return linear;
}

CpuLinear dequantized_linear(const CpuLinear& linear) {
  CpuLinear copy;
  copy.bias = linear.bias;
  copy.dense = linear.packed ? std::make_shared<const MatrixF>(dequantize(*linear.packed)) : linear.dense;
  return copy;
}

}  // namespace

namespace {

kernels::ActivationPrecision kernel_precision(DecodeActivations activations) {
  switch (activations) {
    case DecodeActivations::Fp32:
      return kernels::ActivationPrecision::Fp32;
    case DecodeActivations::Bf16Pair:
      return kernels::ActivationPrecision::Bf16Pair;
    case DecodeActivations::Bf16:
      return kernels::ActivationPrecision::Bf16;
    case DecodeActivations::Int8:
      break;
  }
  return kernels::ActivationPrecision::Int8;
}

}  // namespace

std::string decode_activations_name(DecodeActivations activations) {
  switch (activations) {
    case DecodeActivations::Fp32:
      return "fp32";
    case DecodeActivations::Bf16Pair:
      return "bf16x2";
    case DecodeActivations::Bf16:
      return "bf16";
    case DecodeActivations::Int8:
      break;
  }
  return "int8";
}

DecodeActivations parse_decode_activations(const std::string& text) {
  for (DecodeActivations activations :
       {DecodeActivations::Fp32, DecodeActivations::Bf16Pair, DecodeActivations::Bf16, DecodeActivations::Int8})
    if (text == decode_activations_name(activations)) return activations;
  throw SettingError(Setting::Engines, "'" + text + "' is not an activation precision (fp32, bf16x2, bf16, int8)");
}

CpuDecodeVariant CpuDecodeVariant::parse(const std::string& engine) {
  CpuDecodeVariant variant;
  variant.engine = engine;
  if (engine == kCpuDecodeBaseline) return variant;
  if (engine == kCpuDecodeOneDnn) {
    variant.onednn = true;
    return variant;
  }
  const auto packed_name = packed_variant_name(engine);
  if (!packed_name || packed_name->family != EngineFamily::Cpu)
    throw SettingError(
        Setting::Engines,
        "'" + engine +
            "' is not a CPU decode variant (cpu/eigen-fp32-dense, cpu/onednn-bf16-dense, cpu/int{2,3,4,8}-dense, "
            "cpu/int{2,3,4,8}-N:M)");
  variant.packed = true;
  variant.bits = packed_name->bits;
  variant.pattern = packed_name->pattern;
  return variant;
}

int64_t CpuLinear::rows() const { return packed ? packed->rows : dense->rows(); }
int64_t CpuLinear::cols() const { return packed ? packed->cols : dense->cols(); }
int64_t CpuLinear::read_bytes() const {
  const int64_t weights = packed ? packed->storage_bytes() : (onednn ? 2 : 4) * rows() * cols();
  return weights + 4 * int64_t(bias.size());
}
int64_t CpuLinear::storage_bytes() const {
  return (packed ? packed->storage_bytes() : 2 * rows() * cols()) + 2 * int64_t(bias.size());
}

CpuDecoder CpuDecoder::from_model(const Model& model, const CpuDecodeVariant& variant) {
  decode::require_decoder(model);
  const ModelConfig& config = model.config();
  CpuDecoder decoder;
  decoder.shape_ = config;
  decoder.engine_ = variant.engine;
  decoder.activations_ = variant.activations;
  const auto linear = [&](decode::LinearTensor& tensor) {
    return make_linear(std::move(tensor.weight), variant, std::move(tensor.bias));
  };
  for (int64_t block = 0; block < config.blocks; ++block) {
    decode::BlockTensors tensors = decode::load_block(model, block);
    Block weights;
    weights.q = linear(tensors.q);
    weights.k = linear(tensors.k);
    weights.v = linear(tensors.v);
    weights.o = linear(tensors.o);
    weights.gate = linear(tensors.gate);
    weights.up = linear(tensors.up);
    weights.down = linear(tensors.down);
    weights.attention_norm = std::move(tensors.attention_norm);
    weights.mlp_norm = std::move(tensors.mlp_norm);
    decoder.blocks_.push_back(std::move(weights));
  }
  MatrixF table = decode::load_embedding_table(model);
  decoder.head_ = make_linear(decode::load_head(model, table), variant);  // a tied head: the table before quantizing
  decoder.embeddings_ = EmbeddingTable::make(std::move(table), variant.packed);
  decoder.final_norm_ = decode::load_final_norm(model);
  decoder.inverse_frequency_ = transformer::rope_inverse_frequencies(config.head_dim, config.rope_theta, config.rope_scaling);
  return decoder;
}

CpuDecoder CpuDecoder::synthetic(const ModelConfig& shape, const CpuDecodeVariant& variant, uint64_t seed) {
  if (shape.hidden <= 0 || shape.heads <= 0 || shape.kv_heads <= 0 || shape.heads % shape.kv_heads != 0 ||
      shape.head_dim * shape.heads != shape.hidden || shape.head_dim % 2 != 0 || shape.blocks <= 0 || shape.vocab <= 0)
    throw Error("decode", "the decoder shape is not a LLaMA shape (hidden = heads x head_dim, heads a multiple of kv "
                          "heads, even head_dim)");
  CpuDecoder decoder;
  decoder.shape_ = shape;
  decoder.engine_ = variant.engine;
  decoder.activations_ = variant.activations;
  decoder.share_blocks_ = true;
  uint64_t next_seed = seed;
  const auto matrix = [&](int64_t rows, int64_t cols) {
    const std::string size = std::to_string(rows) + "x" + std::to_string(cols);
    const auto source = open_synthetic_source("synth:" + size + ":dist=llm:seed=" + std::to_string(next_seed++));
    return source->load_matrix("w0_" + size);
  };
  const int64_t kv = shape.kv_heads * shape.head_dim;
  Block weights;
  weights.q = make_linear(matrix(shape.hidden, shape.hidden), variant);
  weights.k = make_linear(matrix(kv, shape.hidden), variant);
  weights.v = make_linear(matrix(kv, shape.hidden), variant);
  weights.o = make_linear(matrix(shape.hidden, shape.hidden), variant);
  weights.gate = make_linear(matrix(shape.intermediate, shape.hidden), variant);
  weights.up = make_linear(matrix(shape.intermediate, shape.hidden), variant);
  weights.down = make_linear(matrix(shape.hidden, shape.intermediate), variant);
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> gain(0.5f, 1.5f);
  weights.attention_norm = VectorF::NullaryExpr(shape.hidden, [&] { return gain(engine); });
  weights.mlp_norm = VectorF::NullaryExpr(shape.hidden, [&] { return gain(engine); });
  decoder.blocks_.push_back(std::move(weights));
  decoder.final_norm_ = VectorF::NullaryExpr(shape.hidden, [&] { return gain(engine); });
  std::normal_distribution<float> normal(0.0f, 1.0f);
  decoder.embeddings_ = EmbeddingTable::make(
      MatrixF::NullaryExpr(shape.vocab, shape.hidden, [&] { return normal(engine); }), variant.packed);
  decoder.head_ = make_linear(matrix(shape.vocab, shape.hidden), variant);
  decoder.inverse_frequency_ = transformer::rope_inverse_frequencies(shape.head_dim, shape.rope_theta, shape.rope_scaling);
  return decoder;
}

CpuDecoder CpuDecoder::dequantized() const {
  CpuDecoder copy;
  copy.shape_ = shape_;
  copy.engine_ = std::string(kCpuDecodeBaseline) + " over the weights of " + engine_;
  copy.share_blocks_ = share_blocks_;
  for (const Block& block : blocks_) {
    Block dense = block;
    for (CpuLinear* linear : {&dense.q, &dense.k, &dense.v, &dense.o, &dense.gate, &dense.up, &dense.down})
      *linear = dequantized_linear(*linear);
    copy.blocks_.push_back(std::move(dense));
  }
  copy.head_ = dequantized_linear(head_);
  copy.embeddings_ = EmbeddingTable::make(embeddings_.decoded(), false);  // the same values a lookup decodes
  copy.final_norm_ = final_norm_;
  copy.inverse_frequency_ = inverse_frequency_;
  return copy;
}

void CpuDecoder::reset(int64_t batch, int64_t capacity) {
  if (batch <= 0 || capacity <= 0) throw Error("decode", "batch and context must be positive");
  batch_ = batch;
  capacity_ = capacity;
  length_ = 0;
  const size_t size = size_t(shape_.blocks * batch * shape_.kv_heads * capacity * shape_.head_dim);
  keys_.assign(size, 0.0f);
  values_.assign(size, 0.0f);
}

void CpuDecoder::fill_cache(int64_t context, uint64_t seed) {
  if (context >= capacity_)
    throw SettingError(Setting::Context, "the cache holds " + std::to_string(capacity_) + " positions");
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t head_dim = shape_.head_dim;
  for (int64_t slab = 0; slab < shape_.blocks * batch_ * shape_.kv_heads; ++slab)
    for (int64_t position = 0; position < context; ++position)
      for (int64_t d = 0; d < head_dim; ++d) {
        const size_t at = size_t((slab * capacity_ + position) * head_dim + d);
        keys_[at] = normal(engine);
        values_[at] = normal(engine);
      }
  length_ = context;
}

void CpuDecoder::prefill(int64_t context, uint64_t seed) {
  if (context >= capacity_)
    throw SettingError(Setting::Context, "the cache holds " + std::to_string(capacity_) + " positions");
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int64_t> id(0, shape_.vocab - 1);
  length_ = 0;
  std::vector<int64_t> tokens(static_cast<size_t>(batch_));
  for (int64_t position = 0; position < context; ++position) {
    for (auto& token : tokens) token = id(engine);
    step(tokens);
  }
}

void CpuDecoder::copy_cache_from(const CpuDecoder& source) {
  if (source.batch_ != batch_ || source.capacity_ != capacity_ || source.keys_.size() != keys_.size())
    throw Error("decode", "the caches differ in shape");
  keys_ = source.keys_;
  values_ = source.values_;
  length_ = source.length_;
}

MatrixF CpuDecoder::multiply(const CpuLinear& linear, const MatrixF& x) const {
  if (linear.onednn) {
    MatrixF y;
    linear.onednn->multiply(x, y, engines::worker_threads());
    if (linear.bias.size()) y.rowwise() += linear.bias.transpose();
    return y;
  }
  if (linear.dense) return transformer::linear(x, *linear.dense, linear.bias.size() ? &linear.bias : nullptr);
  MatrixF y(x.rows(), linear.packed->rows);
  kernels::NmGemmScratch scratch;
  kernels::nm_gemm(kernel_view(*linear.packed), x.data(), x.rows(), y.data(), tbb::this_task_arena::max_concurrency(),
                   scratch, kernel_precision(activations_));
  if (linear.bias.size()) y.rowwise() += linear.bias.transpose();
  return y;
}

// The new token's query against every cached position (its own key included), one task per (sequence, head).
void CpuDecoder::attend(int64_t block, const MatrixF& q, const MatrixF& k, const MatrixF& v, MatrixF& context) {
  const int64_t head_dim = shape_.head_dim, heads = shape_.heads, kv_heads = shape_.kv_heads;
  const int64_t group = heads / kv_heads;
  const int64_t positions = length_ + 1;
  const int64_t first = shape_.sliding_window > 0 ? std::max<int64_t>(0, positions - shape_.sliding_window) : 0;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  float* keys = keys_.data();
  float* values = values_.data();
  // Append this step's keys and values first (each kv head once).
  for (int64_t sequence = 0; sequence < batch_; ++sequence)
    for (int64_t head = 0; head < kv_heads; ++head) {
      const int64_t slab = (block * batch_ + sequence) * kv_heads + head;
      float* key = keys + (slab * capacity_ + length_) * head_dim;
      float* value = values + (slab * capacity_ + length_) * head_dim;
      std::copy_n(k.row(sequence).data() + head * head_dim, head_dim, key);
      std::copy_n(v.row(sequence).data() + head * head_dim, head_dim, value);
    }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, batch_ * heads), [&](const auto& range) {
    std::vector<float> scores(static_cast<size_t>(positions));
    for (int64_t task = range.begin(); task < range.end(); ++task) {
      const int64_t sequence = task / heads, head = task % heads;
      const int64_t slab = (block * batch_ + sequence) * kv_heads + head / group;
      const float* query = q.row(sequence).data() + head * head_dim;
      float largest = -INFINITY;
      for (int64_t position = first; position < positions; ++position) {
        const float* key = keys + (slab * capacity_ + position) * head_dim;
        float dot = 0.0f;
        for (int64_t d = 0; d < head_dim; ++d) dot += query[d] * key[d];
        scores[size_t(position)] = dot * scale;
        largest = std::max(largest, scores[size_t(position)]);
      }
      double total = 0.0;
      for (int64_t position = first; position < positions; ++position) {
        scores[size_t(position)] = std::exp(scores[size_t(position)] - largest);
        total += scores[size_t(position)];
      }
      float* out = context.row(sequence).data() + head * head_dim;
      std::fill_n(out, head_dim, 0.0f);
      for (int64_t position = first; position < positions; ++position) {
        const float weight = static_cast<float>(scores[size_t(position)] / total);
        const float* value = values + (slab * capacity_ + position) * head_dim;
        for (int64_t d = 0; d < head_dim; ++d) out[d] += weight * value[d];
      }
    }
  });
}

MatrixF CpuDecoder::step(const std::vector<int64_t>& tokens) {
  if (int64_t(tokens.size()) != batch_) throw Error("decode", "one token per sequence expected");
  if (length_ >= capacity_) throw Error("decode", "the KV cache is full");
  MatrixF hidden(batch_, shape_.hidden);
  for (int64_t sequence = 0; sequence < batch_; ++sequence) {
    const int64_t id = tokens[size_t(sequence)];
    if (id < 0 || id >= embeddings_.rows())
      throw Error("decode", "token id " + std::to_string(id) + " is outside the vocabulary of " +
                                std::to_string(embeddings_.rows()));
    embeddings_.lookup(id, hidden.row(sequence).data());
  }
  MatrixF context(batch_, shape_.heads * shape_.head_dim);
  for (int64_t block = 0; block < shape_.blocks; ++block) {
    const Block& weights = blocks_[size_t(share_blocks_ ? 0 : block)];
    MatrixF normed = hidden;
    transformer::rms_norm(normed, weights.attention_norm, shape_.norm_eps);
    MatrixF q = multiply(weights.q, normed);
    MatrixF k = multiply(weights.k, normed);
    const MatrixF v = multiply(weights.v, normed);
    // Every sequence's new token stands at position length_.
    transformer::apply_rope_at(q, length_, shape_.heads, shape_.head_dim, inverse_frequency_);
    transformer::apply_rope_at(k, length_, shape_.kv_heads, shape_.head_dim, inverse_frequency_);
    attend(block, q, k, v, context);
    hidden += multiply(weights.o, context);
    normed = hidden;
    transformer::rms_norm(normed, weights.mlp_norm, shape_.norm_eps);
    MatrixF gate = multiply(weights.gate, normed);
    transformer::silu_times(gate, multiply(weights.up, normed));
    hidden += multiply(weights.down, gate);
  }
  ++length_;
  transformer::rms_norm(hidden, final_norm_, shape_.norm_eps);
  return multiply(head_, hidden);
}

void CpuDecoder::rewind(int64_t length) {
  if (length < 0 || length > length_) throw Error("decode", "cannot rewind forward");
  length_ = length;
}

int64_t CpuDecoder::linear_bytes() const {
  int64_t bytes = 0;
  for (const Block& block : blocks_)
    for (const CpuLinear* linear : {&block.q, &block.k, &block.v, &block.o, &block.gate, &block.up, &block.down})
      bytes += linear->storage_bytes();
  if (share_blocks_) bytes *= shape_.blocks;
  return bytes + head_.storage_bytes();
}

int64_t CpuDecoder::fp16_linear_bytes() const {
  int64_t bytes = 0;
  for (const Block& block : blocks_)
    for (const CpuLinear* linear : {&block.q, &block.k, &block.v, &block.o, &block.gate, &block.up, &block.down})
      bytes += 2 * linear->rows() * linear->cols() + 2 * int64_t(linear->bias.size());
  if (share_blocks_) bytes *= shape_.blocks;
  return bytes + 2 * head_.rows() * head_.cols();
}

int64_t CpuDecoder::model_bytes() const {
  const int64_t norms = (2 * shape_.blocks + 1) * shape_.hidden;
  return linear_bytes() + embeddings_.storage_bytes() + 2 * norms;
}

int64_t CpuDecoder::fp16_model_bytes() const {
  const int64_t norms = (2 * shape_.blocks + 1) * shape_.hidden;
  return fp16_linear_bytes() + 2 * embeddings_.rows() * embeddings_.cols() + 2 * norms;
}

int64_t CpuDecoder::linear_read_bytes() const {
  int64_t bytes = 0;
  for (const Block& block : blocks_)
    for (const CpuLinear* linear : {&block.q, &block.k, &block.v, &block.o, &block.gate, &block.up, &block.down})
      bytes += linear->read_bytes();
  if (share_blocks_) bytes *= shape_.blocks;
  return bytes + head_.read_bytes();
}

int64_t CpuDecoder::other_bytes(int64_t context) const {
  const int64_t norms = shape_.blocks * 2 * shape_.hidden + shape_.hidden;
  const int64_t cache = 2 * shape_.blocks * batch_ * shape_.kv_heads * (context + 1) * shape_.head_dim;
  return 4 * (norms + cache + batch_ * shape_.hidden);  // embeddings: only the rows of the batch's tokens
}

std::string CpuDecoder::isa() const {
  if (blocks_.front().q.onednn) return "onednn " + blocks_.front().q.onednn->implementation();
  if (!blocks_.front().q.packed) return "eigen";
  // At the decoder's batch: from kAmxBatch tokens the AMX kernels take over where the CPU has them.
  return kernels::nm_gemm_path(kernel_view(*blocks_.front().q.packed), kernel_precision(activations_), batch_).kernel();
}

std::string CpuDecoder::activation_text() const {
  if (blocks_.front().q.onednn) return "bf16";
  if (!blocks_.front().q.packed) return "fp32";
  return kernels::nm_gemm_path(kernel_view(*blocks_.front().q.packed), kernel_precision(activations_), batch_)
      .activation_text();
}

namespace {

std::vector<int64_t> step_tokens(int64_t batch, int64_t vocab, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int64_t> id(0, vocab - 1);
  std::vector<int64_t> tokens(static_cast<size_t>(batch));
  for (auto& token : tokens) token = id(engine);
  return tokens;
}

}  // namespace

CpuDecodeRun time_cpu_decode(CpuDecoder& decoder, CpuDecoder* reference, int64_t batch, int64_t context,
                             const TimingOptions& timing, uint64_t seed, const std::atomic<bool>* cancel) {
  CpuDecodeRun run;
  run.engine = decoder.engine();
  run.batch = batch;
  run.context = context;
  const std::vector<int64_t> tokens = step_tokens(batch, decoder.shape().vocab, seed);
  decoder.reset(batch, context + 1);
  decoder.fill_cache(context, seed);
  run.cache = "synthetic keys and values, N(0,1)";
  if (reference && !decoder.synthetic()) {
    // A model's weights: both step from the cache the reference leaves after reading `context` tokens.
    reference->reset(batch, context + 1);
    reference->prefill(context, seed);
    decoder.copy_cache_from(*reference);
    run.cache = "prefilled by the reference over " + std::to_string(context) + " random tokens";
  }
  const MatrixF logits = decoder.step(tokens);
  run.isa = decoder.isa();  // after a step: oneDNN names its implementation once it has made one
  run.activations = decoder.activation_text();  // at this batch, as the kernel path
  if (reference) {
    if (decoder.synthetic()) {
      reference->reset(batch, context + 1);
      reference->fill_cache(context, seed);
    } else {
      reference->rewind(context);
    }
    const MatrixF expected = reference->step(tokens);
    run.relative_error = double((logits - expected).norm() / expected.norm());
    int64_t same = 0;
    for (int64_t row = 0; row < batch; ++row) {
      Eigen::Index first = 0, second = 0;
      logits.row(row).maxCoeff(&first);
      expected.row(row).maxCoeff(&second);
      same += first == second;
    }
    run.top1_agreement = double(same) / double(batch);
    run.reference = reference->engine();
  } else {
    run.reference = "itself (the baseline)";
  }
  run.step = time_repeated(
      [&](int) {
        decoder.rewind(context);
        decoder.step(tokens);
      },
      timing, cancel);
  run.tokens_per_second = double(batch) / (run.step.median_us * 1e-6);
  run.linear_bytes = decoder.linear_bytes();
  run.fp16_linear_bytes = decoder.fp16_linear_bytes();
  run.model_bytes = decoder.model_bytes();
  run.fp16_model_bytes = decoder.fp16_model_bytes();
  run.bytes_read = decoder.linear_read_bytes() + decoder.other_bytes(context);
  run.bandwidth_gbs = double(run.bytes_read) / (run.step.median_us * 1e-6) / 1e9;
  return run;
}

CpuDecodeMemory estimate_cpu_decode_memory(const ModelConfig& config, bool shared_blocks, int copy_bits, int64_t batch,
                                           int64_t context) {
  const int64_t kv_width = config.kv_heads * config.head_dim;
  const int64_t block = config.hidden * (2 * config.hidden + 2 * kv_width) + 3 * config.hidden * config.intermediate;
  const int64_t blocks_held = shared_blocks ? 1 : config.blocks;
  // Embedding table and head (tied or not, the decoder holds its own copy of each).
  const int64_t parameters = blocks_held * block + 2 * config.vocab * config.hidden;
  CpuDecodeMemory memory;
  memory.fp32_weights = 4 * parameters;
  memory.packed_weights = memory.fp32_weights * copy_bits / 32;
  const int64_t cache = 2 * 4 * config.blocks * batch * kv_width * (context + 1);
  memory.kv_caches = (copy_bits > 0 ? 2 : 1) * cache;  // a checked variant steps beside its reference
  return memory;
}

int cpu_decode_copy_bits(const std::vector<std::string>& engines) {
  int bits = 0;
  for (const std::string& engine : engines) {
    if (engine == kCpuDecodeBaseline) continue;
    // A packed variant (2..8 bits plus metadata and scales) holds at most a quarter of fp32's bytes.
    bits = std::max(bits, CpuDecodeVariant::parse(engine).onednn ? 16 : 8);
  }
  return bits;
}

}  // namespace nmscope
