// cpu/eigen-fp32-dense: the CPU baseline every CPU speedup is quoted against. It multiplies the dequantized weights
// as a dense fp32 matrix with Eigen, split over output rows on the TBB pool so it uses every core as our own
// kernels do (Eigen's own products are single-threaded without OpenMP).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <nlohmann/json.hpp>

#include "engines/cpu/cpu_engines.hpp"
#include "engines/cpu/worker_threads.hpp"
#include "nmscope/error.hpp"
#include "nmscope/metrics.hpp"

namespace nmscope {

namespace {

class EigenDenseEngine final : public Engine {
 public:
  std::string name() const override { return "cpu/eigen-fp32-dense"; }
  Availability availability() const override { return {}; }
  bool supports(const NMPattern&, const QuantConfig&, std::string*) const override { return true; }

  EngineOutput run(const EngineInput& input) const override {
    const MatrixF& weights = input.dequantized;
    const size_t weight_bytes = size_t(weights.size()) * sizeof(float);
    const int copies = rotation_copies(weight_bytes);
    // Copies are made one by one with a cancellation check: together they can be hundreds of MB.
    std::vector<MatrixF> rotated;
    rotated.reserve(size_t(copies));
    for (int copy = 0; copy < copies; ++copy) {
      if (input.cancel && input.cancel->load(std::memory_order_relaxed)) throw Cancelled();
      rotated.push_back(weights);
    }
    MatrixF output(input.activations.rows(), weights.rows());
    const int threads = engines::worker_threads();
    // Two chunks per thread balance the rows without making the per-chunk product too small for Eigen.
    const int64_t chunk = std::max<int64_t>(1, (weights.rows() + 2 * threads - 1) / (2 * threads));

    auto multiply = [&](int repetition) {
      const MatrixF& current = rotated[size_t(repetition % copies)];
      tbb::parallel_for(
          tbb::blocked_range<int64_t>(0, current.rows(), chunk),
          [&](const auto& range) {
            const int64_t first = range.begin();
            const int64_t count = range.end() - range.begin();
            output.middleCols(first, count).noalias() =
                input.activations * current.middleRows(first, count).transpose();
          },
          tbb::simple_partitioner());
    };

    EngineOutput result;
    result.time = time_repeated(multiply, input.timing, input.cancel);
    result.engine_rel_err = relative_error(input.reference_output, output);
    result.details_json =
        nlohmann::json{{"weight_bytes", weight_bytes}, {"copies", copies}, {"threads", threads}}.dump();
    return result;
  }
};

}  // namespace

std::unique_ptr<Engine> make_eigen_dense_engine() { return std::make_unique<EigenDenseEngine>(); }

}  // namespace nmscope
