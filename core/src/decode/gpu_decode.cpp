// The GPU decode study (gpu_decode.hpp): compress a decoder's linear roles with nmscope's own pruning and
// quantization, run the step on each variant and on the baseline path over the same compressed weights, and
// compare logits.
#include "nmscope/gpu_decode.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "decode/decoder_tensors.hpp"
#include "decode/gpu/gpu_tiles.hpp"
#include "model/transformer_math.hpp"
#include "nmscope/embedding_table.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/error.hpp"
#include "nmscope/kernels/cuda/decoder_synthetic.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/synthetic.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope {

namespace gpu = kernels::cuda;

namespace {

struct RoleShape {
  int64_t rows, cols;
};

RoleShape role_shape(const DecoderShape& shape, LinearRole role) {
  switch (role) {
    case LinearRole::Qkv:
      return {shape.qkv_rows(), shape.hidden};
    case LinearRole::Output:
      return {shape.hidden, shape.hidden};
    case LinearRole::GateUp:
      return {2 * shape.intermediate, shape.hidden};
    case LinearRole::Down:
      return {shape.hidden, shape.intermediate};
    case LinearRole::Head:
      return {shape.vocab, shape.hidden};
  }
  return {0, 0};
}

int64_t role_copies(const DecoderShape& shape, LinearRole role) { return role == LinearRole::Head ? 1 : shape.blocks; }

// The fp16 model's bytes: every linear layer dense fp16, the embeddings and the norm gains.
int64_t fp16_model_bytes(const DecoderShape& shape) {
  int64_t bytes = shape.vocab * shape.hidden * 2 + (2 * shape.blocks + 1) * shape.hidden * 2;
  for (int role = 0; role < kLinearRoles; ++role) {
    const RoleShape dims = role_shape(shape, LinearRole(role));
    bytes += dims.rows * dims.cols * 2 * role_copies(shape, LinearRole(role));
  }
  return bytes;
}

// Per-block bytes of each role before anything is built (the memory check that runs nothing when too large):
// the packed format's bytes, plus the GPU tiles' padding slack, or fp16.
std::vector<int64_t> estimated_role_bytes(const DecoderShape& shape, const DecodeVariant& variant) {
  std::vector<int64_t> bytes;
  for (int role = 0; role < kLinearRoles; ++role) {
    const RoleShape dims = role_shape(shape, LinearRole(role));
    if (variant.kind == LinearKind::Packed)
      bytes.push_back(packed_storage_bytes(dims.rows, dims.cols, variant.pattern, decode::decoder_quant(variant.bits)) *
                      21 / 20);
    else
      bytes.push_back(dims.rows * dims.cols * 2);  // cuSPARSELt: its fp16 staging copy, compressed per case
  }
  return bytes;
}

std::vector<float> to_vector(const MatrixF& matrix) {
  return std::vector<float>(matrix.data(), matrix.data() + matrix.size());
}

}  // namespace

DecodeVariant DecodeVariant::parse(const std::string& engine) {
  DecodeVariant variant;
  variant.engine = engine;
  if (engine == "gpu/cublas-fp16-dense") {
    variant.kind = LinearKind::CublasFp16;
    variant.pattern = NMPattern::dense();
    return variant;
  }
  if (engine == "gpu/cusparselt-fp16-2:4") {
    variant.kind = LinearKind::CusparseltFp16;
    variant.pattern = NMPattern{2, 4};
    return variant;
  }
  if (const auto packed_name = packed_variant_name(engine); packed_name && packed_name->family == EngineFamily::Gpu) {
    variant.kind = LinearKind::Packed;
    variant.bits = packed_name->bits;
    variant.pattern = packed_name->pattern;
    return variant;
  }
  throw SettingError(Setting::Engines, "'" + engine +
                                           "' is not a decode engine (gpu/cublas-fp16-dense, gpu/cusparselt-fp16-2:4, "
                                           "gpu/int{2,3,4,8}-dense, gpu/int{2,3,4,8}-N:M)");
}

DecoderShape decoder_preset(const std::string& name) {
  if (name == "tiny") return DecoderShape::tiny();
  // Every model preset (resources/models) is a decoder shape: LLaMA-2-13B, LLaMA-3-8B, Mistral-7B, Qwen2-7B too.
  const ModelPreset* preset = find_model_preset(name);
  if (!preset)
    throw SettingError(Setting::Preset,
                       "no decoder preset '" + name + "' (presets: tiny, " + model_preset_names() + ")");
  return decoder_shape_of(preset->config, name);
}

ModelConfig decoder_model_config(const DecoderShape& shape) {
  ModelConfig config;
  config.model_type = "llama";
  config.family = ModelFamily::Decoder;
  config.hidden = shape.hidden;
  config.intermediate = shape.intermediate;
  config.blocks = shape.blocks;
  config.heads = shape.heads;
  config.kv_heads = shape.kv_heads;
  config.head_dim = shape.head_dim;
  config.vocab = shape.vocab;
  config.rope_theta = shape.rope_theta;
  config.norm_eps = shape.norm_epsilon;
  return config;
}

namespace {

// How a variant's packed roles are laid out on the GPU: sparse tiles when the pattern embeds in 2:4 (with the
// metadata order the hardware reads, probed once), else dense tiles.
struct PackedTiles {
  bool sparse = false;
  gpu::MetadataOrder order = gpu::MetadataOrder::RowPairsByHalf;
};

PackedTiles packed_tiles(const DecodeVariant& variant) {
  PackedTiles tiles;
  tiles.sparse =
      !variant.pattern.is_dense() && gpu::embeds_in_2_4(variant.pattern.kept_per_group, variant.pattern.group_size);
  if (variant.kind == LinearKind::Packed && tiles.sparse) {
    std::string why;
    if (!gpu::probe_metadata_order(tiles.order, why)) throw Error(variant.engine, "mma.sp metadata probe: " + why);
  }
  return tiles;
}

// One role's weights for the variant, compressed by nmscope (magnitude N:M, symmetric INT-b, group 128), and, when
// `decoded` is given, the same compressed weights as W_hat for the baseline path.
void compress_role(const MatrixF& original, const DecodeVariant& variant, const PackedTiles& tiles,
                   LinearWeights& linear, LinearWeights* decoded) {
  linear.kind = variant.kind;
  linear.rows = original.rows();
  linear.cols = original.cols();
  if (variant.kind == LinearKind::CublasFp16) {
    linear.dense = to_vector(original);  // rounded to fp16 on upload: the fp16 model
    if (decoded) *decoded = linear;
    return;
  }
  const NMSelection selection = select_nm(original, variant.pattern, PruningCriterion::Magnitude);
  QuantConfig role_quant = decode::decoder_quant(variant.bits);
  if (variant.kind == LinearKind::CusparseltFp16) role_quant.bits = 16;
  const PackedMatrix packed = compress(original, selection, role_quant);
  if (variant.kind == LinearKind::CusparseltFp16) {
    linear.dense = to_vector(dequantize(packed));
  } else {
    const gpu::TensorCorePath path = tiles.sparse ? gpu::TensorCorePath::Sparse24 : gpu::TensorCorePath::Dense;
    const kernels::PackedWeightsView view = kernel_view(packed);
    if (const std::string why = gpu::gpu_layout_unsupported(view, path); !why.empty()) throw Error(variant.engine, why);
    linear.tiles = std::make_shared<const GpuTiles>(GpuTiles{gpu::make_gpu_layout(view, path, tiles.order)});
  }
  if (decoded) {
    decoded->kind = LinearKind::CublasFp16;
    decoded->rows = linear.rows;
    decoded->cols = linear.cols;
    decoded->dense = variant.kind == LinearKind::CusparseltFp16 ? linear.dense : to_vector(dequantize(packed));
  }
}

// The embedding table as the variant stores it (docs/packed-format.md, "Token-embedding tables"): 4-bit codes and
// scales when its linear layers are quantized (own kernels), else fp16; `decoded` gets the values a lookup returns.
void embedding_weights(MatrixF table, const DecodeVariant& variant, EmbeddingWeights& embedding,
                       EmbeddingWeights* decoded) {
  const EmbeddingTable stored = EmbeddingTable::make(std::move(table), variant.kind == LinearKind::Packed);
  if (stored.quantized()) {
    embedding.quantized = true;
    embedding.codes = stored.packed()->values;
    embedding.scales = stored.packed()->scales;
  } else {
    embedding.dense = to_vector(stored.decoded());
  }
  if (decoded) {
    decoded->quantized = false;
    decoded->dense = stored.quantized() ? to_vector(stored.decoded()) : embedding.dense;
  }
}

MatrixF stack_rows(std::initializer_list<const MatrixF*> parts) {
  int64_t rows = 0;
  for (const MatrixF* part : parts) rows += part->rows();
  MatrixF stacked(rows, (*parts.begin())->cols());
  int64_t row = 0;
  for (const MatrixF* part : parts) {
    stacked.middleRows(row, part->rows()) = *part;
    row += part->rows();
  }
  return stacked;
}

}  // namespace

DecoderWeights build_decoder_weights(const DecoderShape& shape, const DecodeVariant& variant, uint64_t seed,
                                     DecoderWeights* reference) {
  DecoderWeights weights;
  weights.shape = shape;
  weights.seed = seed;
  weights.linears.resize(kLinearRoles);
  if (reference) {
    reference->shape = shape;
    reference->seed = seed;
    reference->linears.resize(kLinearRoles);
  }
  const PackedTiles tiles = packed_tiles(variant);
  std::vector<std::string> failures(kLinearRoles);
  tbb::parallel_for(0, kLinearRoles, [&](int role) {
    try {
      const RoleShape dims = role_shape(shape, LinearRole(role));
      std::ostringstream spec;
      spec << "synth:" << dims.rows << "x" << dims.cols << ":dist=llm:seed=" << seed * 16 + uint64_t(role);
      const auto source = open_synthetic_source(spec.str());
      const MatrixF original = source->load_matrix(source->tensors().front().name);
      compress_role(original, variant, tiles, weights.linears[size_t(role)],
                    reference ? &reference->linears[size_t(role)] : nullptr);
    } catch (const std::exception& error) {
      failures[size_t(role)] = error.what();
    }
  });
  for (const std::string& failure : failures)
    if (!failure.empty()) throw Error(variant.engine, failure);
  // A quantized variant stores the synthetic table (decoder_synthetic.hpp) quantized; the fp16 ones leave it to the
  // device to fill.
  if (variant.kind == LinearKind::Packed) {
    const MatrixF table = MatrixF::NullaryExpr(shape.vocab, shape.hidden, [&](Eigen::Index row, Eigen::Index col) {
      return gpu::synthetic::embedding(seed, uint64_t(row * shape.hidden + col));
    });
    embedding_weights(table, variant, weights.embedding, reference ? &reference->embedding : nullptr);
  }
  return weights;
}

DecoderShape decoder_shape_of(const ModelConfig& config, const std::string& name) {
  DecoderShape shape;
  shape.name = name;
  shape.hidden = config.hidden;
  shape.intermediate = config.intermediate;
  shape.blocks = config.blocks;
  shape.heads = config.heads;
  shape.kv_heads = config.kv_heads;
  shape.head_dim = config.head_dim;
  shape.vocab = config.vocab;
  shape.rope_theta = config.rope_theta;
  shape.norm_epsilon = config.norm_eps;
  shape.sliding_window = config.sliding_window;
  return shape;
}

DecoderWeights build_model_decoder_weights(const Model& model, const DecodeVariant& variant,
                                           DecoderWeights* reference) {
  decode::require_decoder(model);
  const ModelConfig& config = model.config();
  DecoderWeights weights;
  weights.shape = decoder_shape_of(config, model.directory());
  if (const std::string why = weights.shape.unsupported_reason(); !why.empty())
    throw Error(model.directory(), "the GPU decode step cannot run this shape: " + why);
  weights.linears.resize(kLinearRoles);
  weights.block_linears.resize(size_t(config.blocks * 4));
  if (reference) {
    reference->shape = weights.shape;
    reference->linears.resize(kLinearRoles);
    reference->block_linears.resize(weights.block_linears.size());
  }
  const PackedTiles tiles = packed_tiles(variant);
  const int64_t head_dim = config.head_dim;
  bool any_bias = false;
  std::vector<float> qkv_bias;
  std::vector<float> gains;
  for (int64_t block = 0; block < config.blocks; ++block) {
    decode::BlockTensors t = decode::load_block(model, block);
    // The step adds biases after the fused q/k/v product only (qwen2); any other bias it refuses by name.
    for (const auto& [name, linear] :
         {std::pair{"o_proj", &t.o}, {"gate_proj", &t.gate}, {"up_proj", &t.up}, {"down_proj", &t.down}})
      if (linear->bias.size())
        throw Error(model.directory(), std::string("block ") + std::to_string(block) + " " + name +
                                           " has a bias; the GPU decode step adds biases to q/k/v only");
    any_bias = any_bias || t.q.bias.size() || t.k.bias.size() || t.v.bias.size();
    const auto bias_of = [](const decode::LinearTensor& linear) {
      return linear.bias.size() ? linear.bias : VectorF(VectorF::Zero(linear.weight.rows()));
    };
    for (const decode::LinearTensor* part : {&t.q, &t.k, &t.v}) {
      const VectorF bias = bias_of(*part);
      qkv_bias.insert(qkv_bias.end(), bias.data(), bias.data() + bias.size());
    }
    const MatrixF qkv = stack_rows({&t.q.weight, &t.k.weight, &t.v.weight});
    const MatrixF gate_up = stack_rows({&t.gate.weight, &t.up.weight});
    const std::pair<LinearRole, const MatrixF*> roles[] = {{LinearRole::Qkv, &qkv},
                                                           {LinearRole::Output, &t.o.weight},
                                                           {LinearRole::GateUp, &gate_up},
                                                           {LinearRole::Down, &t.down.weight}};
    for (const auto& [role, matrix] : roles) {
      const size_t at = size_t(block * 4 + int(role));
      compress_role(*matrix, variant, tiles, weights.block_linears[at],
                    reference ? &reference->block_linears[at] : nullptr);
    }
    gains.insert(gains.end(), t.attention_norm.data(), t.attention_norm.data() + t.attention_norm.size());
    gains.insert(gains.end(), t.mlp_norm.data(), t.mlp_norm.data() + t.mlp_norm.size());
  }
  const VectorF final_norm = decode::load_final_norm(model);
  gains.insert(gains.end(), final_norm.data(), final_norm.data() + final_norm.size());
  MatrixF table = decode::load_embedding_table(model);
  compress_role(decode::load_head(model, table), variant, tiles, weights.linears[size_t(LinearRole::Head)],
                reference ? &reference->linears[size_t(LinearRole::Head)] : nullptr);
  embedding_weights(std::move(table), variant, weights.embedding, reference ? &reference->embedding : nullptr);
  weights.norm_gains = std::move(gains);
  if (any_bias) weights.qkv_bias = std::move(qkv_bias);
  const VectorF inverse = transformer::rope_inverse_frequencies(head_dim, config.rope_theta, config.rope_scaling);
  weights.rope_inverse_frequencies.assign(inverse.data(), inverse.data() + inverse.size());
  if (reference) {
    reference->norm_gains = weights.norm_gains;
    reference->qkv_bias = weights.qkv_bias;
    reference->rope_inverse_frequencies = weights.rope_inverse_frequencies;
  }
  return weights;
}

std::vector<DecodeRow> run_decode_study(const DecodeStudyOptions& options,
                                        const std::function<void(const DecodeRow&)>& on_row) {
  std::vector<std::string> engines = {kDecodeBaseline};
  for (const std::string& engine : options.engines)
    if (std::find(engines.begin(), engines.end(), engine) == engines.end()) engines.push_back(engine);
  std::vector<DecodeVariant> variants;
  for (const std::string& engine : engines) variants.push_back(DecodeVariant::parse(engine));
  if (options.batches.empty()) throw SettingError(Setting::Batch, "no batch size given");
  for (int64_t batch : options.batches)
    if (batch < 1 || batch > 1024) throw SettingError(Setting::Batch, "batch sizes run from 1 to 1024");
  if (options.context < 1 || options.context > 65536)
    throw SettingError(Setting::Context, "the context runs from 1 to 65536");
  if (const std::string why = options.shape.unsupported_reason(); !why.empty()) {
    if (options.model) throw Error(options.model->directory(), "the GPU decode step cannot run this shape: " + why);
    throw SettingError(Setting::Preset, "the GPU decode step cannot run this shape: " + why);
  }

  std::vector<DecodeCase> cases;
  for (int64_t batch : options.batches) cases.push_back({batch, options.context});
  DecodeTiming timing;
  timing.target_seconds = options.timing_seconds;
  timing.kernel_trace = options.kernel_trace;
  DecodeTiming reference_timing = timing;
  reference_timing.kernel_trace = false;
  reference_timing.min_repetitions = 1;
  reference_timing.max_repetitions = 1;
  reference_timing.warmup = 0;

  const int64_t fp16_bytes = fp16_model_bytes(options.shape);
  std::map<int64_t, double> baseline_tokens_per_s;
  std::vector<DecodeRow> rows;
  auto emit = [&](DecodeRow row) {
    if (row.status == "ok" && row.engine == kDecodeBaseline) baseline_tokens_per_s[row.batch] = row.run.tokens_per_s;
    const auto baseline = baseline_tokens_per_s.find(row.batch);
    if (row.status == "ok" && baseline != baseline_tokens_per_s.end() && baseline->second > 0)
      row.speedup = row.run.tokens_per_s / baseline->second;
    if (on_row) on_row(row);
    rows.push_back(std::move(row));
  };
  auto unavailable_rows = [&](const DecodeVariant& variant, const std::string& status, const std::string& note,
                              const std::vector<DecodeRun>* runs) {
    for (size_t index = 0; index < cases.size(); ++index) {
      DecodeRow row;
      row.engine = variant.engine;
      row.batch = cases[index].batch;
      row.context = cases[index].context;
      row.status = status;
      row.note = runs ? (*runs)[index].error : note;
      if (runs) row.run = (*runs)[index];
      row.fp16_weight_bytes = fp16_bytes;
      emit(std::move(row));
    }
  };

  const gpu::DeviceStatus& device = gpu::device_status();
  for (const DecodeVariant& variant : variants) {
    if (!device.available) {
      unavailable_rows(variant, "unavailable", device.reason, nullptr);
      continue;
    }
    if (variant.kind == LinearKind::CusparseltFp16 && !gpu::cusparselt_status().available) {
      unavailable_rows(variant, "unavailable", gpu::cusparselt_status().reason, nullptr);
      continue;
    }
    // Too large for the GPU: say how much it needs and build nothing.
    const int64_t free_bytes = gpu_free_bytes();
    std::vector<DecodeCase> fitting;
    std::vector<std::string> too_large(cases.size());
    for (size_t index = 0; index < cases.size(); ++index) {
      const int64_t needed =
          decoder_required_bytes(options.shape, estimated_role_bytes(options.shape, variant),
                                 {cases[index].batch, cases[index].context,
                                  variant.kind == LinearKind::CublasFp16 ? KvCache::Fp16 : options.kv_cache});
      if (needed > free_bytes) {
        std::ostringstream text;
        text.precision(1);
        text << std::fixed << "needs about " << double(needed) / 1e9 << " GB of GPU memory, the GPU has "
             << double(free_bytes) / 1e9 << " GB free: nothing run";
        too_large[index] = text.str();
      }
    }
    DecoderWeights compressed, reference;
    const bool is_reference_itself = variant.kind == LinearKind::CublasFp16;
    // The baseline keeps the fp16 cache; every other variant steps over the asked-for one.
    const auto variant_case = [&](DecodeCase decode_case) {
      decode_case.kv_cache = is_reference_itself ? KvCache::Fp16 : options.kv_cache;
      return decode_case;
    };
    const bool any_fits = std::any_of(too_large.begin(), too_large.end(), [](const auto& why) { return why.empty(); });
    if (any_fits) {
      try {
        DecoderWeights* decoded = is_reference_itself ? nullptr : &reference;
        compressed = options.model ? build_model_decoder_weights(*options.model, variant, decoded)
                                   : build_decoder_weights(options.shape, variant, options.seed, decoded);
        compressed.seed = reference.seed = options.seed;  // the KV cache contents and the tokens
      } catch (const std::exception& error) {
        unavailable_rows(variant, "failed", error.what(), nullptr);
        continue;
      }
    }
    std::vector<DecodeCase> runnable;
    for (size_t index = 0; index < cases.size(); ++index)
      if (too_large[index].empty()) runnable.push_back(variant_case(cases[index]));
    std::vector<DecodeRun> runs =
        runnable.empty() ? std::vector<DecodeRun>{} : run_decoder(compressed, runnable, timing);
    compressed = {};
    std::vector<DecodeRun> reference_runs;
    if (!is_reference_itself && !runs.empty()) {
      std::vector<DecodeCase> reference_cases = runnable;
      for (DecodeCase& reference_case : reference_cases) reference_case.kv_cache = KvCache::Fp16;
      reference_runs = run_decoder(reference, reference_cases, reference_timing);
    }
    reference = {};

    size_t next = 0;
    for (size_t index = 0; index < cases.size(); ++index) {
      DecodeRow row;
      row.engine = variant.engine;
      row.batch = cases[index].batch;
      row.context = cases[index].context;
      row.fp16_weight_bytes = fp16_bytes;
      if (!too_large[index].empty()) {
        row.status = "failed";
        row.note = too_large[index];
        emit(std::move(row));
        continue;
      }
      const size_t slot = next++;
      row.run = runs[slot];
      if (!row.run.ok) {
        row.status = "failed";
        row.note = row.run.error;
        emit(std::move(row));
        continue;
      }
      row.status = "ok";
      row.storage_ratio = double(fp16_bytes) / double(row.run.weight_bytes);
      const std::vector<float>* expected = &row.run.logits;
      if (is_reference_itself) {
        row.reference = "itself (the baseline path)";
      } else if (!reference_runs[slot].ok) {
        row.reference = "none: the reference run failed (" + reference_runs[slot].error + ")";
        expected = nullptr;
      } else {
        row.reference = "cuBLAS fp16 over the same compressed weights, dequantized";
        expected = &reference_runs[slot].logits;
      }
      if (expected) {
        const std::vector<float>& got = row.run.logits;
        const int64_t vocab = options.shape.vocab;
        double max_error = 0, squared_error = 0, squared_norm = 0;
        int64_t agree = 0;
        for (int64_t sequence = 0; sequence < row.batch; ++sequence) {
          double row_max = 0, row_max_error = 0;
          int64_t best_got = 0, best_expected = 0;
          for (int64_t v = 0; v < vocab; ++v) {
            const size_t at = size_t(sequence * vocab + v);
            const double difference = double(got[at]) - double((*expected)[at]);
            row_max = std::max(row_max, std::abs(double((*expected)[at])));
            row_max_error = std::max(row_max_error, std::abs(difference));
            squared_error += difference * difference;
            squared_norm += double((*expected)[at]) * double((*expected)[at]);
            if (got[at] > got[size_t(sequence * vocab + best_got)]) best_got = v;
            if ((*expected)[at] > (*expected)[size_t(sequence * vocab + best_expected)]) best_expected = v;
          }
          max_error = std::max(max_error, row_max > 0 ? row_max_error / row_max : row_max_error);
          agree += best_got == best_expected;
        }
        row.max_relative_error = max_error;
        row.relative_error = squared_norm > 0 ? std::sqrt(squared_error / squared_norm) : std::sqrt(squared_error);
        row.top1_agreement = double(agree) / double(row.batch);
      }
      row.run.logits.clear();
      row.run.logits.shrink_to_fit();
      emit(std::move(row));
    }
  }
  return rows;
}

}  // namespace nmscope
