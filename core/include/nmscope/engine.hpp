#pragma once
// An engine computes y = x W_hat^T for one (layer, config, batch) job and reports time or cycles, its output error
// against the double-precision reference, and anything engine-specific. Each variant is described once
// (EngineDescriptor) and named "family/design-point" (e.g. "cpu/eigen-fp32-dense", "cpu/int4-2:4",
// "gpu/cublas-fp16-dense", "fpga/systolic-16x16").
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nmscope/engine_descriptor.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/timing.hpp"

namespace nmscope {

struct Availability {
  bool available = true;
  std::string reason;  // why not, when unavailable
};

struct EngineInput {
  const MatrixF& weights;            // W as loaded [N_out, K]
  const PackedMatrix& packed;        // the packed format (docs/packed-format.md): what own kernels consume
  const MatrixF& dequantized;        // W_hat, dense fp32: what dense baselines consume
  const MatrixF& activations;        // x [batch, K]
  const MatrixD& reference_output;   // x W_hat^T in double [batch, N_out]
  TimingOptions timing;
  const std::atomic<bool>* cancel = nullptr;
};

struct EngineOutput {
  std::string status = "ok";         // "ok" or "failed"
  std::string note;
  std::optional<TimingStats> time;
  std::optional<int64_t> cycles;
  std::optional<double> engine_rel_err;
  std::string details_json = "{}";   // engine-specific figures, e.g. {"weight_bytes": ..., "copies": ...}
};

// A job an engine has made ready to time: copies rotated, buffers and threads set up. An engine that times on the
// host offers one (Engine::prepare), so a study can time a variant and its baseline in alternating rounds
// (time_interleaved) instead of one after the other.
class PreparedJob {
 public:
  virtual ~PreparedJob() = default;
  // One timed call (repetition picks the rotated copy).
  virtual void call(int repetition) = 0;
  // What the engine reports once timed: the output of the last call against the reference, its details.
  virtual EngineOutput finish(const TimingStats& time) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // What this variant is and runs, written once beside its kernel (engine_descriptor.hpp).
  virtual const EngineDescriptor& descriptor() const = 0;
  std::string name() const { return descriptor().name; }
  virtual Availability availability() const = 0;
  // False (with the reason) for configurations this variant cannot run, e.g. a 2:4 kernel given 1:4: what the
  // descriptor lists, then the kernel's own limits.
  bool supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const {
    return descriptor().supports(pattern, quant, reason) && kernel_supports(pattern, quant, reason);
  }
  // Throws Cancelled when input.cancel is set; reports failures in the output, never by crashing.
  virtual EngineOutput run(const EngineInput& input) const = 0;
  // The job ready to time, for engines that time on the host; nullptr for those that time themselves (the GPU's
  // event timing) or count cycles. `input` must outlive the job.
  virtual std::unique_ptr<PreparedJob> prepare(const EngineInput&) const { return nullptr; }

  // The family's name ("cpu"), as --engines takes it.
  const std::string& family() const { return family_traits(descriptor().family).name; }

 protected:
  // Limits that depend on the configuration's arithmetic rather than on a list (the GPU's K tile against the scale
  // group, the array's folds); the reason names the variant.
  virtual bool kernel_supports(const NMPattern&, const QuantConfig&, std::string*) const { return true; }
};

// run() for an engine that prepares its jobs: prepare, time alone, finish.
EngineOutput run_prepared(const Engine& engine, const EngineInput& input);

}  // namespace nmscope
