// fpga/systolic-RxC: y = x W^T on the N:M systolic array of rtl/. The output always comes from the Verilated RTL
// when this build simulates the shape and the run fits the simulation budget; it is checked bit for bit against
// the C++ reference and its cycle count against the analytic model. Larger runs take the model's cycles and the
// reference's output (the same bits the RTL would give) and say so in details_json ("cycles_source": "model").
// Time is cycles at the user's clock (EngineOptions::fpga_clock_mhz), not a wall-clock measurement; the weights
// stream through the array's memory port from the user's memory (EngineOptions::fpga_memory), whose stalls count.
#include <nlohmann/json.hpp>

#include "engines/fpga/fpga_engines.hpp"
#include "engines/fpga/systolic_data.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/resource_estimate.hpp"
#include "nmscope/metrics.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope {

namespace {

using fpga::ArraySize;

// Runs longer than this many cycles are not simulated (about 10-30 s of Verilator time on this machine).
constexpr int64_t kSimulationCycleBudget = 20'000'000;

class CollectingSink final : public rtl::OutputSink {
 public:
  CollectingSink(int64_t tokens, int64_t channels, int cols)
      : channels_(channels), cols_(cols), output_(size_t(tokens * channels), 0.0f),
        written_(size_t(tokens * channels), 0) {}
  void output(int64_t token, int64_t channel_tile, const float* values) override {
    for (int c = 0; c < cols_; ++c) {
      const int64_t channel = channel_tile * cols_ + c;
      if (channel >= channels_) break;
      const size_t at = size_t(token * channels_ + channel);
      if (at >= output_.size()) throw std::runtime_error("RTL output token out of range");
      output_[at] = values[c];
      ++written_[at];
    }
  }
  const std::vector<float>& output() const { return output_; }
  // Every output written exactly once.
  bool complete() const {
    for (uint8_t count : written_)
      if (count != 1) return false;
    return true;
  }

 private:
  int64_t channels_;
  int cols_;
  std::vector<float> output_;
  std::vector<uint8_t> written_;
};

class SystolicEngine final : public Engine {
 public:
  SystolicEngine(ArraySize array, double clock_mhz, fpga::MemorySystem memory)
      : array_(array),
        clock_mhz_(clock_mhz),
        memory_(std::move(memory)),
        timing_(fpga::memory_timing(memory_, clock_mhz)),
        descriptor_{.name = "fpga/systolic-" + array.to_string(),
                    .family = EngineFamily::Fpga,
                    .kernel = "nmscope's N:M systolic array (rtl/), cycles from the Verilated RTL or its exact model",
                    .device = "simulated systolic array",
                    .bits = {2, 3, 4, 5, 6, 7, 8},
                    .limits = "N:M groups that do not straddle a scale group; the array's fold limits"} {}

  const EngineDescriptor& descriptor() const override { return descriptor_; }
  Availability availability() const override { return {}; }

  EngineOutput run(const EngineInput& input) const override {
    const kernels::PackedWeightsView weights = kernel_view(input.packed);
    const int64_t tokens = input.activations.rows();
    const fpga::TokenActivations activations =
        fpga::quantize_per_token(input.activations.data(), tokens, input.activations.cols());
    const int depth = rtl::simulated_token_depth();
    const fpga::GemmShape shape = fpga::gemm_shape(weights, tokens);
    if (const std::string why = fpga::unsupported_reason(shape, array_); !why.empty()) {
      EngineOutput refused;
      refused.status = "failed";
      refused.note = why;
      return refused;
    }
    const fpga::CycleEstimate model = fpga::model_cycles(shape, array_, depth, timing_);
    const fpga::SystolicRun run(weights, activations, array_, depth);

    EngineOutput result;
    nlohmann::json details{{"array", array_.to_string()},
                           {"clock_mhz", clock_mhz_},
                           {"model_cycles", model.cycles},
                           {"memory", memory_.name},
                           {"memory_gbps", memory_.gigabytes_per_second},
                           {"memory_latency_ns", memory_.latency_ns},
                           {"port_bytes", fpga::port_bytes()},
                           {"compute_cycles", model.compute_cycles},
                           {"stall_cycles", model.stall_cycles},
                           {"fetch_cycles", model.fetch_cycles},
                           {"weight_bytes_moved", model.weight_bytes},
                           {"activation_bytes", model.activation_bytes},
                           {"bound", model.memory_bound ? "memory" : "compute"},
                           {"utilization", model.utilization},
                           {"useful_macs", model.useful_macs},
                           {"folds", model.folds},
                           {"k_folds", run.plan().k_folds()},
                           {"channel_tiles", run.plan().channel_tiles},
                           {"rows_per_fold", run.plan().rows_per_fold},
                           {"token_depth", depth},
                           {"activation_quantization", "int8 per token"}};

    const std::vector<float> expected = run.reference_output();
    std::vector<float> produced;
    int64_t cycles = model.cycles;
    const bool simulate = rtl::is_simulated({array_.rows, array_.cols}) && model.cycles <= kSimulationCycleBudget;
    if (simulate) {
      CollectingSink sink(tokens, weights.rows, array_.cols);
      const rtl::SimulationResult simulated =
          rtl::simulate({array_.rows, array_.cols}, run.registers(), run, sink,
                        {timing_.latency_cycles, timing_.bytes_per_cycle_q16}, input.cancel);
      if (simulated.cancelled) throw Cancelled();
      cycles = simulated.cycles;
      produced = sink.output();
      int64_t mismatches = 0;
      for (size_t i = 0; i < expected.size(); ++i)
        if (std::memcmp(&expected[i], &produced[i], sizeof(float)) != 0) ++mismatches;
      details["cycles_source"] = "rtl";
      details["rtl_cycles"] = simulated.cycles;
      details["rtl_weight_bytes_moved"] = simulated.weight_beats * fpga::port_bytes();
      details["simulation_seconds"] = simulated.wall_seconds;
      details["simulated_cycles_per_second"] = double(simulated.cycles) / std::max(simulated.wall_seconds, 1e-9);
      details["bit_exact"] = mismatches == 0 && sink.complete();
      details["mismatches"] = mismatches;
      details["model_matches_rtl"] = simulated.cycles == model.cycles;
      if (mismatches != 0 || !sink.complete()) {
        result.status = "failed";
        result.note = std::to_string(mismatches) + " outputs differ from the bit-exact reference";
      } else if (simulated.cycles != model.cycles) {
        result.status = "failed";
        result.note = "RTL took " + std::to_string(simulated.cycles) + " cycles, the model says " +
                      std::to_string(model.cycles);
      }
    } else {
      produced = expected;
      details["cycles_source"] = "model";
      details["why_not_simulated"] = rtl::is_simulated({array_.rows, array_.cols})
                                         ? "longer than the simulation budget of " +
                                               std::to_string(kSimulationCycleBudget) + " cycles"
                                         : "array shape not Verilated in this build";
    }
    if (const auto resources = fpga::cached_resource_estimate(array_)) details["resources"] = resources->to_json();

    MatrixF output(tokens, weights.rows);
    std::copy(produced.begin(), produced.end(), output.data());
    result.cycles = cycles;
    const double microseconds = double(cycles) / clock_mhz_;
    result.time = TimingStats{microseconds, microseconds, microseconds, 1};
    details["time_us_at_clock"] = microseconds;
    result.engine_rel_err = relative_error(input.reference_output, output);
    result.details_json = details.dump();
    return result;
  }

 protected:
  // Whether the array's folds fit the configuration (fpga::unsupported_reason, which names the array itself).
  bool kernel_supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const override {
    auto refuse = [&](const std::string& why) {
      if (reason) *reason = why;
      return false;
    };
    fpga::GemmShape shape;
    shape.n = pattern.kept_per_group;
    shape.m = pattern.group_size;
    shape.quant_group = quant.granularity == Granularity::Group ? quant.group : 0;
    shape.bits = quant.bits;
    const std::string why = fpga::unsupported_reason(shape, array_);
    return why.empty() ? true : refuse(why);
  }

 private:
  ArraySize array_;
  double clock_mhz_;
  fpga::MemorySystem memory_;
  fpga::MemoryTiming timing_;
  EngineDescriptor descriptor_;
};

}  // namespace

void register_fpga_engines(EngineRegistry& registry, const EngineOptions& options) {
  for (const ArraySize& array : options.fpga_arrays)
    registry.add(std::make_unique<SystolicEngine>(array, options.fpga_clock_mhz, options.fpga_memory));
}

}  // namespace nmscope
