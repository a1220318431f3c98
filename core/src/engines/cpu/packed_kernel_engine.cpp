// cpu/int{b}-{pattern}: nmscope's own CPU kernels (kernels/cpu) run straight on the packed format, split over
// output rows on the TBB pool. One variant per bit width and fast-path pattern (dense, 2:4, 1:4, 4:8, 2:8), and
// cpu/int{b}-nm for every other N:M; each runs kernels::nm_gemm (the widest SIMD kernel this CPU has for the
// format, else the scalar reference) and says which in its details.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engines/cpu/cpu_engines.hpp"
#include "engines/cpu/rotated_copies.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "nmscope/error.hpp"
#include "nmscope/kernels/nm_gemm.hpp"
#include "nmscope/metrics.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope {

namespace {

const std::vector<NMPattern>& fast_path_patterns() {
  static const std::vector<NMPattern> patterns = {NMPattern::dense(), {2, 4}, {1, 4}, {4, 8}, {2, 8}};
  return patterns;
}

// One job of a packed variant: rotated copies of the packed buffers, so every call streams its weights from memory,
// as in a model.
class PackedKernelJob final : public PreparedJob {
 public:
  explicit PackedKernelJob(const EngineInput& input)
      : input_(input),
        weight_bytes_(size_t(input.packed.storage_bytes())),
        copies_(rotation_copies(weight_bytes_)),
        threads_(engines::worker_threads()) {
    rotated_ = engines::rotated_copies(input.packed, copies_, input.cancel);
    for (const auto& copy : rotated_) views_.push_back(kernel_view(copy));
    path_ = kernels::nm_gemm_path(views_[0], kernels::ActivationPrecision::Int8, input.activations.rows());
    output_.resize(input.activations.rows(), input.packed.rows);
  }

  void call(int repetition) override {
    kernels::nm_gemm(views_[size_t(repetition % copies_)], input_.activations.data(), input_.activations.rows(),
                     output_.data(), threads_, scratch_);
  }

  EngineOutput finish(const TimingStats& time) override {
    EngineOutput result;
    result.time = time;
    result.engine_rel_err = relative_error(input_.reference_output, output_);
    result.details_json = nlohmann::json{
        {"isa", kernels::isa_name(path_.isa)},
        {"kernel", path_.kernel() + ": " + path_.tiling(input_.activations.rows())},
        {"activations", path_.activation_text()},
        {"weight_bytes", weight_bytes_},
        {"copies", copies_},
        {"threads", threads_}}.dump();
    return result;
  }

 private:
  const EngineInput& input_;
  size_t weight_bytes_;
  int copies_;
  int threads_;
  std::vector<PackedMatrix> rotated_;
  std::vector<kernels::PackedWeightsView> views_;
  kernels::NmGemmPath path_;
  kernels::NmGemmScratch scratch_;
  MatrixF output_;
};

class PackedKernelEngine final : public Engine {
 public:
  // `pattern` empty: the general N:M variant (every pattern without a fast path).
  PackedKernelEngine(int bits, std::optional<NMPattern> pattern)
      : descriptor_{.name = "cpu/int" + std::to_string(bits) + "-" + (pattern ? pattern->to_string() : "nm"),
                    .family = EngineFamily::Cpu,
                    .kernel = "kernels::nm_gemm on the packed format (AVX-512, AVX2 or scalar, per format)",
                    .device = "host CPU",
                    .bits = {bits},
                    .patterns = pattern ? PatternSet::only({*pattern}) : PatternSet::all_but(fast_path_patterns())} {}

  const EngineDescriptor& descriptor() const override { return descriptor_; }
  Availability availability() const override { return {}; }
  EngineOutput run(const EngineInput& input) const override { return run_prepared(*this, input); }
  std::unique_ptr<PreparedJob> prepare(const EngineInput& input) const override;

 private:
  EngineDescriptor descriptor_;
};

std::unique_ptr<PreparedJob> PackedKernelEngine::prepare(const EngineInput& input) const {
  return std::make_unique<PackedKernelJob>(input);
}

}  // namespace

std::vector<std::unique_ptr<Engine>> make_packed_kernel_engines() {
  std::vector<std::unique_ptr<Engine>> engines;
  for (int bits : packed_kernel_bits()) {
    for (const NMPattern& pattern : fast_path_patterns()) engines.push_back(std::make_unique<PackedKernelEngine>(bits, pattern));
    engines.push_back(std::make_unique<PackedKernelEngine>(bits, std::nullopt));
  }
  return engines;
}

}  // namespace nmscope
