// cpu/int{b}-{pattern}: nmscope's own CPU kernels (kernels/cpu) run straight on the packed format, split over
// output rows on the TBB pool. One variant per bit width and fast-path pattern (dense, 2:4, 1:4, 4:8, 2:8), and
// cpu/int{b}-nm for every other N:M; each runs the widest SIMD kernel this CPU has for the format, else the
// scalar reference, and says which in its details.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engines/cpu/cpu_engines.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "nmscope/error.hpp"
#include "nmscope/kernels/nm_gemm.hpp"
#include "nmscope/metrics.hpp"

namespace nmscope {

namespace {

const std::vector<NMPattern>& fast_path_patterns() {
  static const std::vector<NMPattern> patterns = {NMPattern::dense(), {2, 4}, {1, 4}, {4, 8}, {2, 8}};
  return patterns;
}


class PackedKernelEngine final : public Engine {
 public:
  // `pattern` empty: the general N:M variant (every pattern without a fast path).
  PackedKernelEngine(int bits, std::optional<NMPattern> pattern) : bits_(bits), pattern_(pattern) {}

  std::string name() const override {
    return "cpu/int" + std::to_string(bits_) + "-" + (pattern_ ? pattern_->to_string() : std::string("nm"));
  }
  Availability availability() const override { return {}; }

  bool supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const override {
    if (quant.bits != bits_) {
      if (reason) *reason = name() + " runs " + std::to_string(bits_) + "-bit weights only";
      return false;
    }
    const auto& fast = fast_path_patterns();
    const bool has_fast_path = std::find(fast.begin(), fast.end(), pattern) != fast.end();
    if (pattern_ ? !(pattern == *pattern_) : has_fast_path) {
      if (reason) *reason = name() + " does not run " + pattern.to_string();
      return false;
    }
    return true;
  }

  EngineOutput run(const EngineInput& input) const override {
    const PackedMatrix& packed = input.packed;
    // Rotated copies of the packed buffers, so every call streams its weights from memory, as in a model.
    const size_t weight_bytes = size_t(packed.storage_bytes());
    const int copies = rotation_copies(weight_bytes);
    std::vector<PackedMatrix> rotated;
    rotated.reserve(size_t(copies));
    for (int copy = 0; copy < copies; ++copy) {
      if (input.cancel && input.cancel->load(std::memory_order_relaxed)) throw Cancelled();
      rotated.push_back(packed);
    }
    std::vector<kernels::PackedWeightsView> views;
    for (const auto& copy : rotated) views.push_back(kernel_view(copy));

    const kernels::Isa isa = kernels::simd_supports(kernels::best_isa(), views[0]) ? kernels::best_isa()
                                                                                    : kernels::Isa::Reference;
    const int64_t batch = input.activations.rows();
    const int64_t rows = packed.rows;
    MatrixF output(batch, rows);
    kernels::QuantizedActivations quantized;
    const int threads = engines::worker_threads();
    // Enough row blocks to balance the threads, each long enough to amortize the per-row decode setup.
    const int64_t block = std::max<int64_t>(4, rows / (8 * threads));

    auto multiply = [&](int repetition) {
      const kernels::PackedWeightsView& weights = views[size_t(repetition % copies)];
      if (isa != kernels::Isa::Reference)
        kernels::quantize_activations(input.activations.data(), batch, packed.cols, quantized);
      tbb::parallel_for(
          tbb::blocked_range<int64_t>(0, rows, block),
          [&](const auto& range) {
            if (isa == kernels::Isa::Reference)
              kernels::nm_gemm_reference(weights, input.activations.data(), batch, range.begin(), range.end(), output.data());
            else
              kernels::nm_gemm_simd(isa, weights, quantized, range.begin(), range.end(), output.data());
          },
          tbb::simple_partitioner());
    };

    EngineOutput result;
    result.time = time_repeated(multiply, input.timing, input.cancel);
    result.engine_rel_err = relative_error(input.reference_output, output);
    result.details_json = nlohmann::json{{"isa", kernels::isa_name(isa)},
                                         {"activations", isa == kernels::Isa::Reference ? "fp32" : "int8 per 128 columns"},
                                         {"weight_bytes", weight_bytes},
                                         {"copies", copies},
                                         {"threads", threads}}
                              .dump();
    return result;
  }

 private:
  int bits_;
  std::optional<NMPattern> pattern_;
};

}  // namespace

std::vector<std::unique_ptr<Engine>> make_packed_kernel_engines() {
  std::vector<std::unique_ptr<Engine>> engines;
  for (int bits : {4, 8, 2, 3}) {
    for (const NMPattern& pattern : fast_path_patterns()) engines.push_back(std::make_unique<PackedKernelEngine>(bits, pattern));
    engines.push_back(std::make_unique<PackedKernelEngine>(bits, std::nullopt));
  }
  return engines;
}

}  // namespace nmscope
