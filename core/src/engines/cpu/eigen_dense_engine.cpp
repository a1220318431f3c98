// cpu/eigen-fp32-dense: the CPU baseline every CPU speedup is quoted against. It multiplies the dequantized weights
// as a dense fp32 matrix with Eigen, split over output rows on the TBB pool so it uses every core as our own
// kernels do (Eigen's own products are single-threaded without OpenMP).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <nlohmann/json.hpp>

#include "engines/cpu/cpu_engines.hpp"
#include "engines/cpu/rotated_copies.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "nmscope/error.hpp"
#include "nmscope/metrics.hpp"

namespace nmscope {

namespace {

class EigenDenseJob final : public PreparedJob {
 public:
  explicit EigenDenseJob(const EngineInput& input)
      : input_(input),
        weight_bytes_(size_t(input.dequantized.size()) * sizeof(float)),
        copies_(rotation_copies(weight_bytes_)),
        threads_(engines::worker_threads()) {
    const MatrixF& weights = input.dequantized;
    rotated_ = engines::rotated_copies(weights, copies_, input.cancel);
    output_.resize(input.activations.rows(), weights.rows());
    // Two chunks per thread balance the rows without making the per-chunk product too small for Eigen.
    chunk_ = std::max<int64_t>(1, (weights.rows() + 2 * threads_ - 1) / (2 * threads_));
  }

  void call(int repetition) override {
    const MatrixF& current = rotated_[size_t(repetition % copies_)];
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, current.rows(), chunk_),
        [&](const auto& range) {
          const int64_t first = range.begin();
          const int64_t count = range.end() - range.begin();
          output_.middleCols(first, count).noalias() =
              input_.activations * current.middleRows(first, count).transpose();
        },
        tbb::simple_partitioner());
  }

  EngineOutput finish(const TimingStats& time) override {
    EngineOutput result;
    result.time = time;
    result.engine_rel_err = relative_error(input_.reference_output, output_);
    result.details_json =
        nlohmann::json{{"weight_bytes", weight_bytes_}, {"copies", copies_}, {"threads", threads_}}.dump();
    return result;
  }

 private:
  const EngineInput& input_;
  size_t weight_bytes_;
  int copies_;
  int threads_;
  int64_t chunk_ = 1;
  std::vector<MatrixF> rotated_;
  MatrixF output_;
};

class EigenDenseEngine final : public Engine {
 public:
  const EngineDescriptor& descriptor() const override {
    static const EngineDescriptor described{.name = "cpu/eigen-fp32-dense",
                                            .family = EngineFamily::Cpu,
                                            .kernel = "Eigen fp32 GEMM on the dequantized weights",
                                            .device = "host CPU",
                                            .is_baseline = true};
    return described;
  }
  Availability availability() const override { return {}; }
  EngineOutput run(const EngineInput& input) const override { return run_prepared(*this, input); }
  std::unique_ptr<PreparedJob> prepare(const EngineInput& input) const override {
    return std::make_unique<EigenDenseJob>(input);
  }
};

}  // namespace

std::unique_ptr<Engine> make_eigen_dense_engine() { return std::make_unique<EigenDenseEngine>(); }

}  // namespace nmscope
