// The GPU decode study (gpu_decode.hpp): compress a decoder's linear roles with nmscope's own pruning and
// quantization, run the step on each variant and on the baseline path over the same compressed weights, and
// compare logits.
#include "nmscope/gpu_decode.hpp"

#include "nmscope/model_preset.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "nmscope/error.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/synthetic.hpp"

namespace nmscope {

namespace gpu = kernels::cuda;

namespace {

struct RoleShape {
  int64_t rows, cols;
};

RoleShape role_shape(const gpu::DecoderShape& shape, gpu::LinearRole role) {
  switch (role) {
    case gpu::LinearRole::Qkv:
      return {shape.qkv_rows(), shape.hidden};
    case gpu::LinearRole::Output:
      return {shape.hidden, shape.hidden};
    case gpu::LinearRole::GateUp:
      return {2 * shape.intermediate, shape.hidden};
    case gpu::LinearRole::Down:
      return {shape.hidden, shape.intermediate};
    case gpu::LinearRole::Head:
      return {shape.vocab, shape.hidden};
  }
  return {0, 0};
}

int64_t role_copies(const gpu::DecoderShape& shape, gpu::LinearRole role) {
  return role == gpu::LinearRole::Head ? 1 : shape.blocks;
}

QuantConfig quant_of(const DecodeVariant& variant) {
  QuantConfig quant;
  quant.bits = variant.bits;
  quant.granularity = Granularity::Group;
  quant.group = 128;
  quant.symmetric = true;
  return quant;
}

// The fp16 model's bytes: every linear layer dense fp16, the embeddings and the norm gains.
int64_t fp16_model_bytes(const gpu::DecoderShape& shape) {
  int64_t bytes = shape.vocab * shape.hidden * 2 + (2 * shape.blocks + 1) * shape.hidden * 2;
  for (int role = 0; role < gpu::kLinearRoles; ++role) {
    const RoleShape dims = role_shape(shape, gpu::LinearRole(role));
    bytes += dims.rows * dims.cols * 2 * role_copies(shape, gpu::LinearRole(role));
  }
  return bytes;
}

// Per-block bytes of each role before anything is built (the memory check that runs nothing when too large):
// the packed format's bytes, plus the GPU tiles' padding slack, or fp16.
std::vector<int64_t> estimated_role_bytes(const gpu::DecoderShape& shape, const DecodeVariant& variant) {
  std::vector<int64_t> bytes;
  for (int role = 0; role < gpu::kLinearRoles; ++role) {
    const RoleShape dims = role_shape(shape, gpu::LinearRole(role));
    if (variant.kind == gpu::LinearKind::Packed)
      bytes.push_back(packed_storage_bytes(dims.rows, dims.cols, variant.pattern, quant_of(variant)) * 21 / 20);
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
    variant.kind = gpu::LinearKind::CublasFp16;
    variant.pattern = NMPattern::dense();
    return variant;
  }
  if (engine == "gpu/cusparselt-fp16-2:4") {
    variant.kind = gpu::LinearKind::CusparseltFp16;
    variant.pattern = NMPattern{2, 4};
    return variant;
  }
  const std::string prefix = "gpu/int";
  const size_t dash = engine.find('-', prefix.size());
  if (engine.rfind(prefix, 0) == 0 && dash != std::string::npos) {
    const std::string bits = engine.substr(prefix.size(), dash - prefix.size());
    if (bits == "2" || bits == "3" || bits == "4" || bits == "8") {
      variant.kind = gpu::LinearKind::Packed;
      variant.bits = std::stoi(bits);
      variant.pattern = NMPattern::parse(engine.substr(dash + 1));
      return variant;
    }
  }
  throw Error("--engines", "'" + engine +
                               "' is not a decode engine (gpu/cublas-fp16-dense, gpu/cusparselt-fp16-2:4, "
                               "gpu/int{2,3,4,8}-dense, gpu/int{2,3,4,8}-N:M)");
}

gpu::DecoderShape decoder_preset(const std::string& name) {
  if (name == "tiny") return gpu::DecoderShape::tiny();
  // Every model preset (resources/models) is a decoder shape: LLaMA-2-13B, LLaMA-3-8B, Mistral-7B, Qwen2-7B too.
  const ModelPreset* preset = find_model_preset(name);
  if (!preset)
    throw Error("--preset", "no decoder preset '" + name + "' (presets: tiny, " + model_preset_names() + ")");
  const ModelConfig& config = preset->config;
  gpu::DecoderShape shape;
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
  return shape;
}

ModelConfig decoder_model_config(const gpu::DecoderShape& shape) {
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

gpu::DecoderWeights build_decoder_weights(const gpu::DecoderShape& shape, const DecodeVariant& variant, uint64_t seed,
                                          gpu::DecoderWeights* reference) {
  gpu::DecoderWeights weights;
  weights.shape = shape;
  weights.seed = seed;
  weights.linears.resize(gpu::kLinearRoles);
  if (reference) {
    reference->shape = shape;
    reference->seed = seed;
    reference->linears.resize(gpu::kLinearRoles);
  }
  gpu::MetadataOrder order = gpu::MetadataOrder::RowPairsByHalf;
  const bool sparse_tiles =
      !variant.pattern.is_dense() && gpu::embeds_in_2_4(variant.pattern.kept_per_group, variant.pattern.group_size);
  if (variant.kind == gpu::LinearKind::Packed && sparse_tiles) {
    std::string why;
    if (!gpu::probe_metadata_order(order, why)) throw Error(variant.engine, "mma.sp metadata probe: " + why);
  }
  const QuantConfig quant = quant_of(variant);
  std::vector<std::string> failures(gpu::kLinearRoles);
  tbb::parallel_for(0, gpu::kLinearRoles, [&](int role) {
    try {
      const RoleShape dims = role_shape(shape, gpu::LinearRole(role));
      std::ostringstream spec;
      spec << "synth:" << dims.rows << "x" << dims.cols << ":dist=llm:seed=" << seed * 16 + uint64_t(role);
      const auto source = open_synthetic_source(spec.str());
      const MatrixF original = source->load_matrix(source->tensors().front().name);
      gpu::LinearWeights& linear = weights.linears[size_t(role)];
      linear.kind = variant.kind;
      linear.rows = dims.rows;
      linear.cols = dims.cols;
      if (variant.kind == gpu::LinearKind::CublasFp16) {
        linear.dense = to_vector(original);  // rounded to fp16 on upload: the fp16 model
        if (reference) reference->linears[size_t(role)] = linear;
        return;
      }
      const NMSelection selection = select_nm(original, variant.pattern, PruningCriterion::Magnitude);
      QuantConfig role_quant = quant;
      if (variant.kind == gpu::LinearKind::CusparseltFp16) role_quant.bits = 16;
      const PackedMatrix packed = compress(original, selection, role_quant);
      if (variant.kind == gpu::LinearKind::CusparseltFp16) {
        linear.dense = to_vector(dequantize(packed));
      } else {
        const gpu::TensorCorePath path = sparse_tiles ? gpu::TensorCorePath::Sparse24 : gpu::TensorCorePath::Dense;
        const kernels::PackedWeightsView view = kernel_view(packed);
        if (const std::string why = gpu::gpu_layout_unsupported(view, path); !why.empty())
          throw Error(variant.engine, why);
        linear.layout = gpu::make_gpu_layout(view, path, order);
      }
      if (reference) {
        gpu::LinearWeights& decoded = reference->linears[size_t(role)];
        decoded.kind = gpu::LinearKind::CublasFp16;
        decoded.rows = dims.rows;
        decoded.cols = dims.cols;
        decoded.dense = variant.kind == gpu::LinearKind::CusparseltFp16 ? linear.dense : to_vector(dequantize(packed));
      }
    } catch (const std::exception& error) {
      failures[size_t(role)] = error.what();
    }
  });
  for (const std::string& failure : failures)
    if (!failure.empty()) throw Error(variant.engine, failure);
  return weights;
}

std::vector<DecodeRow> run_decode_study(const DecodeStudyOptions& options,
                                        const std::function<void(const DecodeRow&)>& on_row) {
  std::vector<std::string> engines = {kDecodeBaseline};
  for (const std::string& engine : options.engines)
    if (std::find(engines.begin(), engines.end(), engine) == engines.end()) engines.push_back(engine);
  std::vector<DecodeVariant> variants;
  for (const std::string& engine : engines) variants.push_back(DecodeVariant::parse(engine));
  if (options.batches.empty()) throw Error("--batch", "no batch size given");
  for (int64_t batch : options.batches)
    if (batch < 1 || batch > 1024) throw Error("--batch", "batch sizes run from 1 to 1024");
  if (options.context < 1 || options.context > 65536) throw Error("--context", "the context runs from 1 to 65536");
  if (const std::string why = options.shape.unsupported_reason(); !why.empty()) throw Error("--preset", why);

  std::vector<gpu::DecodeCase> cases;
  for (int64_t batch : options.batches) cases.push_back({batch, options.context});
  gpu::DecodeTiming timing;
  timing.target_seconds = options.timing_seconds;
  timing.kernel_trace = options.kernel_trace;
  gpu::DecodeTiming reference_timing = timing;
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
                              const std::vector<gpu::DecodeRun>* runs) {
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
    if (variant.kind == gpu::LinearKind::CusparseltFp16 && !gpu::cusparselt_status().available) {
      unavailable_rows(variant, "unavailable", gpu::cusparselt_status().reason, nullptr);
      continue;
    }
    // Too large for the GPU: say how much it needs and build nothing.
    const int64_t free_bytes = gpu::gpu_free_bytes();
    std::vector<gpu::DecodeCase> fitting;
    std::vector<std::string> too_large(cases.size());
    for (size_t index = 0; index < cases.size(); ++index) {
      const int64_t needed =
          gpu::decoder_required_bytes(options.shape, estimated_role_bytes(options.shape, variant), cases[index]);
      if (needed > free_bytes) {
        std::ostringstream text;
        text.precision(1);
        text << std::fixed << "needs about " << double(needed) / 1e9 << " GB of GPU memory, the GPU has "
             << double(free_bytes) / 1e9 << " GB free: nothing run";
        too_large[index] = text.str();
      }
    }
    gpu::DecoderWeights compressed, reference;
    const bool is_reference_itself = variant.kind == gpu::LinearKind::CublasFp16;
    const bool any_fits = std::any_of(too_large.begin(), too_large.end(), [](const auto& why) { return why.empty(); });
    if (any_fits) {
      try {
        compressed =
            build_decoder_weights(options.shape, variant, options.seed, is_reference_itself ? nullptr : &reference);
      } catch (const std::exception& error) {
        unavailable_rows(variant, "failed", error.what(), nullptr);
        continue;
      }
    }
    std::vector<gpu::DecodeCase> runnable;
    for (size_t index = 0; index < cases.size(); ++index)
      if (too_large[index].empty()) runnable.push_back(cases[index]);
    std::vector<gpu::DecodeRun> runs =
        runnable.empty() ? std::vector<gpu::DecodeRun>{} : gpu::run_decoder(compressed, runnable, timing);
    compressed = {};
    std::vector<gpu::DecodeRun> reference_runs;
    if (!is_reference_itself && !runs.empty()) reference_runs = gpu::run_decoder(reference, runnable, reference_timing);
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
