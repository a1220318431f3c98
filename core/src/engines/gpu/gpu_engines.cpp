// gpu/ variants: the cuBLASLt fp16 dense and cuSPARSELt fp16 2:4 baselines, and nmscope's own tensor-core kernels
// on the GPU re-layout of the packed format (docs/gpu-kernels.md): gpu/int{b}-dense (mma.sync), gpu/int{b}-2:4
// (mma.sp) and gpu/int{b}-nm for every other N:M (mma.sp when the pattern embeds in 2:4, else mma.sync on the
// expanded tiles). All go through kernels/cuda's plain host API; with no GPU or no CUDA build they are listed as
// unavailable with the reason, and a failure inside a run becomes a "failed" row, never a crash.
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/kernels/cuda/gpu_layout.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nmscope/metrics.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope {

namespace {

namespace gpu = kernels::cuda;

gpu::GpuTimingSpec timing_spec(const TimingOptions& options) {
  gpu::GpuTimingSpec spec;
  spec.warmup = std::max(options.warmup, 2);
  spec.min_repetitions = std::max(options.min_repetitions, 5);
  spec.max_repetitions = std::max(options.max_repetitions, spec.min_repetitions);
  spec.target_seconds = options.target_seconds;
  return spec;
}

Availability availability_of(const gpu::DeviceStatus& status) {
  return status.available ? Availability{} : Availability{false, status.reason};
}

// The run's result as an engine output: the error of its checked call against the double reference.
EngineOutput to_output(const gpu::GpuRun& run, const EngineInput& input, nlohmann::json details) {
  EngineOutput output;
  if (!run.ok) {
    output.status = "failed";
    output.note = run.error;
    return output;
  }
  TimingStats stats;
  stats.median_us = run.median_us;
  stats.p10_us = run.p10_us;
  stats.p90_us = run.p90_us;
  stats.repetitions = run.repetitions;
  output.time = stats;
  const int64_t batch = input.activations.rows(), rows = input.dequantized.rows();
  MatrixF y(batch, rows);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r) y(b, r) = run.output[size_t(b * rows + r)];
  output.engine_rel_err = relative_error(input.reference_output, y);
  details["weight_bytes"] = run.weight_bytes;
  details["copies"] = run.copies;
  details["config"] = run.config;
  details["device"] = gpu::device_status().name;
  output.details_json = details.dump();
  return output;
}

class CublasDenseEngine final : public Engine {
 public:
  const EngineDescriptor& descriptor() const override {
    static const EngineDescriptor described{.name = "gpu/cublas-fp16-dense",
                                            .family = EngineFamily::Gpu,
                                            .kernel = "cuBLASLt fp16 GEMM on the dequantized weights",
                                            .device = "NVIDIA GPU",
                                            .is_baseline = true};
    return described;
  }
  Availability availability() const override { return availability_of(gpu::device_status()); }
  EngineOutput run(const EngineInput& input) const override {
    if (input.cancel && input.cancel->load()) throw Cancelled();
    const auto run =
        gpu::run_cublas_fp16(input.dequantized.data(), input.dequantized.rows(), input.dequantized.cols(),
                             input.activations.data(), input.activations.rows(), timing_spec(input.timing));
    return to_output(run, input, {{"weights", "fp16 dense (W_hat rounded to fp16)"}});
  }
};

class CusparseltEngine final : public Engine {
 public:
  const EngineDescriptor& descriptor() const override {
    static const EngineDescriptor described{.name = "gpu/cusparselt-fp16-2:4",
                                            .family = EngineFamily::Gpu,
                                            .kernel = "cuSPARSELt fp16 2:4 GEMM on the dequantized weights",
                                            .device = "NVIDIA GPU",
                                            .is_baseline = true,
                                            .limits = "patterns that fit 2:4 (at most 2 kept in every 4 columns)"};
    return described;
  }
  Availability availability() const override { return availability_of(gpu::cusparselt_status()); }
  EngineOutput run(const EngineInput& input) const override {
    if (input.cancel && input.cancel->load()) throw Cancelled();
    const auto run =
        gpu::run_cusparselt_fp16_24(input.dequantized.data(), input.dequantized.rows(), input.dequantized.cols(),
                                    input.activations.data(), input.activations.rows(), timing_spec(input.timing));
    return to_output(run, input, {{"weights", "fp16 2:4 (W_hat rounded to fp16, compressed by cuSPARSELt)"}});
  }

 protected:
  bool kernel_supports(const NMPattern& pattern, const QuantConfig&, std::string* reason) const override {
    if (gpu::embeds_in_2_4(pattern.kept_per_group, pattern.group_size)) return true;
    if (reason) *reason = name() + ": needs weights that are 2:4 sparse, not " + pattern.to_string();
    return false;
  }
};

// The fast paths of the packed GPU kernels, each its own variant; every other N:M runs as gpu/int{b}-nm.
const std::vector<NMPattern>& fast_path_patterns() {
  static const std::vector<NMPattern> patterns = {NMPattern::dense(), {2, 4}};
  return patterns;
}

class PackedGpuEngine final : public Engine {
 public:
  // `pattern` empty: the general N:M variant (mma.sp where the pattern embeds in 2:4, else mma.sync).
  PackedGpuEngine(int bits, std::optional<NMPattern> pattern)
      : descriptor_{
            .name = "gpu/int" + std::to_string(bits) + "-" + (pattern ? pattern->to_string() : "nm"),
            .family = EngineFamily::Gpu,
            .kernel = "nmscope's tensor-core kernels on the GPU re-layout (mma.sp for 2:4 embeddings, else mma.sync)",
            .device = "NVIDIA GPU",
            .bits = {bits},
            .patterns = pattern ? PatternSet::only({*pattern}, true) : PatternSet::all_but(fast_path_patterns(), true),
            .symmetric_only = true,
            .limits = "scale groups of whole K tiles (16 columns; 32 on the 2:4 path)"} {}

  const EngineDescriptor& descriptor() const override { return descriptor_; }
  Availability availability() const override { return availability_of(gpu::device_status()); }

  EngineOutput run(const EngineInput& input) const override {
    if (input.cancel && input.cancel->load()) throw Cancelled();
    const gpu::TensorCorePath path = path_for(input.packed.pattern);
    gpu::MetadataOrder order = gpu::MetadataOrder::RowPairsByHalf;
    if (path == gpu::TensorCorePath::Sparse24) {
      std::string why;
      if (!gpu::probe_metadata_order(order, why)) {
        EngineOutput failed;
        failed.status = "failed";
        failed.note = "mma.sp metadata probe: " + why;
        return failed;
      }
    }
    const kernels::PackedWeightsView view = kernel_view(input.packed);
    if (const std::string why = gpu::gpu_layout_unsupported(view, path); !why.empty()) {
      EngineOutput failed;
      failed.status = "failed";
      failed.note = why;
      return failed;
    }
    const std::shared_ptr<const gpu::GpuWeightLayout> cached = layout_for(input.packed, view, path, order);
    const gpu::GpuWeightLayout& layout = *cached;
    const auto run =
        gpu::run_packed(layout, input.activations.data(), input.activations.rows(), timing_spec(input.timing));
    return to_output(
        run, input,
        {{"layout", path == gpu::TensorCorePath::Sparse24 ? "2:4 tiles (mma.sp)" : "dense tiles (mma.sync)"},
         {"packed_bytes", input.packed.storage_bytes()},
         {"code_bits", layout.code_bits},
         {"metadata_order", int(order)}});
  }

 protected:
  // A scale group must cover whole K tiles: 32 columns on the 2:4 path, 16 on the dense one.
  bool kernel_supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const override {
    const int unit_k = path_for(pattern) == gpu::TensorCorePath::Sparse24 ? 32 : 16;
    if (quant.granularity != Granularity::Group || quant.group % unit_k == 0) return true;
    if (reason)
      *reason = name() + ": quantization group " + std::to_string(quant.group) + " is not a multiple of " +
                std::to_string(unit_k);
    return false;
  }

 private:
  // The re-layout is built once per weight matrix and reused across batch sizes (a study times one configuration
  // at every batch in a row): keyed by the packed buffers' contents, not their address.
  std::shared_ptr<const gpu::GpuWeightLayout> layout_for(const PackedMatrix& packed,
                                                         const kernels::PackedWeightsView& view,
                                                         gpu::TensorCorePath path, gpu::MetadataOrder order) const {
    uint64_t key = 1469598103934665603ull;
    auto mix = [&](const void* data, size_t bytes) {
      const auto* byte = static_cast<const uint8_t*>(data);
      for (size_t index = 0; index < bytes; ++index) key = (key ^ byte[index]) * 1099511628211ull;
    };
    const int64_t shape[] = {packed.rows,
                             packed.cols,
                             packed.pattern.kept_per_group,
                             packed.pattern.group_size,
                             packed.quant.bits,
                             view.quant_group,
                             int64_t(path),
                             int64_t(order)};
    mix(shape, sizeof(shape));
    mix(packed.values.data(), packed.values.size());
    mix(packed.metadata.data(), packed.metadata.size());
    mix(packed.scales.data(), packed.scales.size() * sizeof(uint16_t));
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (!cached_layout_ || cached_key_ != key) {
      cached_layout_ = std::make_shared<const gpu::GpuWeightLayout>(gpu::make_gpu_layout(view, path, order));
      cached_key_ = key;
    }
    return cached_layout_;
  }

  static gpu::TensorCorePath path_for(const NMPattern& pattern) {
    return gpu::embeds_in_2_4(pattern.kept_per_group, pattern.group_size) ? gpu::TensorCorePath::Sparse24
                                                                          : gpu::TensorCorePath::Dense;
  }
  EngineDescriptor descriptor_;
  mutable std::mutex cache_mutex_;
  mutable uint64_t cached_key_ = 0;
  mutable std::shared_ptr<const gpu::GpuWeightLayout> cached_layout_;
};

}  // namespace

void register_gpu_engines(EngineRegistry& registry) {
  registry.add(std::make_unique<CublasDenseEngine>());
  registry.add(std::make_unique<CusparseltEngine>());
  for (int bits : packed_kernel_bits()) {
    for (const NMPattern& pattern : fast_path_patterns())
      registry.add(std::make_unique<PackedGpuEngine>(bits, pattern));
    registry.add(std::make_unique<PackedGpuEngine>(bits, std::nullopt));
  }
}

}  // namespace nmscope
