// cpu/onednn-bf16-dense: the strongest dense product a CPU user would run instead of ours: oneDNN's matmul on bf16
// weights (AVX-512 BF16, AMX where present, its own JIT), timed beside Eigen fp32 as a second dense baseline (issue
// 23). The weights are reordered once into the layout oneDNN prefers, as a library user does when loading a model;
// the activations are converted to bf16 inside each timed call, as our kernels quantize theirs inside each call.
// oneDNN sits in a module loaded on first use (engines/cpu/onednn_module.hpp).
#include <nlohmann/json.hpp>

#include "engines/cpu/cpu_engines.hpp"
#include "engines/cpu/onednn_module.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "nmscope/error.hpp"
#include "nmscope/metrics.hpp"

namespace nmscope {

namespace {

// Why this machine has no oneDNN bf16 matmul (no module, or no AVX-512 for oneDNN's bf16 kernels), "" when it has.
std::string bf16_unavailable_reason() {
  std::string reason;
  const engines::OneDnnModule* module = engines::onednn_module(&reason);
  if (!module) return reason;
  const std::vector<float> weights(64 * 64, 1.0f);
  char error[512] = "";
  nmscope_onednn_matmul* probe = module->create(1, 64, 64, weights.data(), error, sizeof(error));
  if (!probe) return error;
  module->destroy(probe);
  return "";
}

class OneDnnDenseJob final : public PreparedJob {
 public:
  explicit OneDnnDenseJob(const EngineInput& input)
      : input_(input), module_(loaded_module()), threads_(engines::worker_threads()) {
    const MatrixF& weights = input.dequantized;
    char error[512] = "";
    matmul_ =
        module_.create(input.activations.rows(), weights.cols(), weights.rows(), weights.data(), error, sizeof(error));
    if (!matmul_) throw Error("cpu/onednn-bf16-dense", error);
    const int copies = rotation_copies(std::size_t(module_.weight_bytes(matmul_)));
    for (int copy = 1; copy < copies; ++copy) {
      if (input.cancel && input.cancel->load(std::memory_order_relaxed)) throw Cancelled();
      if (!module_.add_copy(matmul_)) throw Error("cpu/onednn-bf16-dense", "out of memory for the weight copies");
    }
    copies_ = copies;
    output_.resize(input.activations.rows(), weights.rows());
  }
  static const engines::OneDnnModule& loaded_module() {
    std::string reason;
    const engines::OneDnnModule* module = engines::onednn_module(&reason);
    if (!module) throw Error("cpu/onednn-bf16-dense", reason);
    return *module;
  }
  ~OneDnnDenseJob() override { module_.destroy(matmul_); }
  OneDnnDenseJob(const OneDnnDenseJob&) = delete;
  OneDnnDenseJob& operator=(const OneDnnDenseJob&) = delete;

  void call(int repetition) override {
    // oneDNN runs on OpenMP, not on our TBB pool: it gets the threads our kernels get (--threads).
    // A failure is kept for finish() rather than thrown: the engines timed in the same rounds keep their figures.
    if (!failure_.empty()) return;
    char error[512] = "";
    if (!module_.run(matmul_, input_.activations.data(), output_.data(), repetition, threads_, error, sizeof(error)))
      failure_ = error;
  }

  EngineOutput finish(const TimingStats& time) override {
    EngineOutput result;
    if (!failure_.empty()) {
      result.status = "failed";
      result.note = failure_;
      return result;
    }
    result.time = time;
    result.engine_rel_err = relative_error(input_.reference_output, output_);
    result.details_json = nlohmann::json{{"weight_bytes", module_.weight_bytes(matmul_)},
                                         {"copies", copies_},
                                         {"threads", threads_},
                                         {"implementation", module_.implementation(matmul_)},
                                         {"isa", module_.isa()},
                                         {"omp_wait_policy", module_.wait_policy}}
                              .dump();
    return result;
  }

 private:
  const EngineInput& input_;
  const engines::OneDnnModule& module_;
  int threads_;
  nmscope_onednn_matmul* matmul_ = nullptr;
  int copies_ = 1;
  MatrixF output_;
  std::string failure_;
};

class OneDnnDenseEngine final : public Engine {
 public:
  const EngineDescriptor& descriptor() const override {
    static const EngineDescriptor described{
        .name = "cpu/onednn-bf16-dense",
        .family = EngineFamily::Cpu,
        .kernel = "oneDNN bf16 matmul (AVX-512 BF16 / AMX where present) on the dequantized weights",
        .device = "host CPU",
        .is_baseline = true};
    return described;
  }
  Availability availability() const override {
    static const std::string reason = bf16_unavailable_reason();
    return reason.empty() ? Availability{} : Availability{false, reason};
  }
  EngineOutput run(const EngineInput& input) const override { return run_prepared(*this, input); }
  std::unique_ptr<PreparedJob> prepare(const EngineInput& input) const override {
    return std::make_unique<OneDnnDenseJob>(input);
  }
};

}  // namespace

std::unique_ptr<Engine> make_onednn_dense_engine() { return std::make_unique<OneDnnDenseEngine>(); }

}  // namespace nmscope
