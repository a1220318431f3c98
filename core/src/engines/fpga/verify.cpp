// Random RTL-versus-reference-versus-model checks (verify.hpp).
#include "nmscope/fpga/verify.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "engines/fpga/systolic_data.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"
#include "quant/kernel_view.hpp"

namespace nmscope::fpga {

namespace {

class CheckingSink final : public rtl::OutputSink {
 public:
  CheckingSink(const std::vector<float>& expected, int64_t channels, int cols)
      : expected_(expected), channels_(channels), cols_(cols), writes_(expected.size(), 0) {}
  void output(int64_t token, int64_t channel_tile, const float* values) override {
    for (int c = 0; c < cols_; ++c) {
      const int64_t channel = channel_tile * cols_ + c;
      if (channel >= channels_) break;
      const size_t at = size_t(token * channels_ + channel);
      if (at >= expected_.size()) {
        ++stray_;
        continue;
      }
      ++writes_[at];
      if (std::memcmp(&expected_[at], &values[c], sizeof(float)) != 0) ++mismatches_;
    }
  }
  int64_t mismatches() const {
    int64_t missing = 0;
    for (uint8_t count : writes_)
      if (count != 1) ++missing;
    return mismatches_ + missing + stray_;
  }

 private:
  const std::vector<float>& expected_;
  int64_t channels_;
  int cols_;
  std::vector<uint8_t> writes_;
  int64_t mismatches_ = 0;
  int64_t stray_ = 0;
};

}  // namespace

std::string VerifyCase::describe() const {
  std::ostringstream text;
  text << array.to_string() << " " << pattern.to_string() << " int" << quant.bits << " " << quant.granularity_name()
       << (quant.symmetric ? "" : " asym") << " W[" << out_channels << "x" << in_features << "] batch " << tokens
       << " depth " << token_depth << " mem ";
  if (memory.bytes_per_cycle_q16 > 0)
    text << double(memory.bytes_per_cycle_q16) / double(rtl::kBandwidthOne) << "B/c";
  else
    text << "port";
  text << "+" << memory.latency_cycles << " seed " << seed;
  return text.str();
}

bool rtl_model_available() { return !rtl::simulated_shapes().empty(); }

std::vector<VerifyCase> random_verify_cases(int count, uint64_t seed) {
  const std::vector<rtl::ArrayShape> shapes = rtl::simulated_shapes();
  std::vector<VerifyCase> cases;
  if (shapes.empty()) return cases;
  std::mt19937_64 random(seed);
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(random); };
  const std::vector<NMPattern> named{{1, 1}, {2, 4}, {1, 4}, {4, 8}, {2, 8}, {1, 8}, {3, 8}, {1, 2}};
  for (int i = 0; i < count; ++i) {
    VerifyCase config;
    const rtl::ArrayShape shape = shapes[size_t(pick(0, int64_t(shapes.size()) - 1))];
    config.array = {shape.rows, shape.cols};
    // Mostly the patterns users ask for, sometimes any N:M the array takes (M <= 8, N <= rows).
    if (pick(0, 3) > 0) {
      config.pattern = named[size_t(pick(0, int64_t(named.size()) - 1))];
    } else {
      const int m = int(pick(2, kMaxGroupSize));
      config.pattern = {int(pick(1, std::min(m, shape.rows))), m};
    }
    const int m = config.pattern.group_size;
    config.quant.bits = int(pick(2, 8));
    config.quant.symmetric = pick(0, 3) > 0;
    switch (pick(0, 3)) {
      case 0: config.quant.granularity = Granularity::Channel; break;
      case 1: config.quant.granularity = Granularity::Tensor; break;
      default:
        config.quant.granularity = Granularity::Group;
        config.quant.group = int(m * pick(1, 96 / m + 8));  // a multiple of M, so no group straddles two scales
    }
    config.out_channels = pick(1, 3 * shape.cols + 5);
    config.in_features = pick(1, 320);
    config.tokens = pick(0, 9) == 0 ? pick(200, 600) : pick(1, 48);
    config.token_depth = int(pick(0, 1) == 0 ? rtl::simulated_token_depth() : pick(1, rtl::simulated_token_depth()));
    // The memory: mostly a bandwidth between 0.5 and 96 bytes per cycle (log-uniform), sometimes the port's width.
    if (pick(0, 4) > 0) {
      const double bytes_per_cycle = 0.5 * std::pow(192.0, std::uniform_real_distribution<double>(0, 1)(random));
      config.memory.bytes_per_cycle_q16 = int64_t(bytes_per_cycle * double(rtl::kBandwidthOne));
    }
    config.memory.latency_cycles = pick(0, 2) == 0 ? 0 : pick(1, 300);
    config.seed = random();
    cases.push_back(config);
  }
  return cases;
}

VerifyOutcome run_verify_case(const VerifyCase& config) {
  VerifyOutcome outcome;
  outcome.config = config;
  std::mt19937_64 random(config.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  MatrixF weights(config.out_channels, config.in_features);
  for (int64_t i = 0; i < weights.size(); ++i) weights.data()[i] = normal(random);
  MatrixF x(config.tokens, config.in_features);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(random) * config.activation_scale;

  const NMSelection selection = select_nm(weights, config.pattern, PruningCriterion::Magnitude);
  const PackedMatrix packed = compress(weights, selection, config.quant);
  const kernels::PackedWeightsView view = kernel_view(packed);
  const TokenActivations activations = quantize_per_token(x.data(), config.tokens, config.in_features);
  const SystolicRun run(view, activations, config.array, config.token_depth);
  const std::vector<float> expected = run.reference_output();
  outcome.outputs = int64_t(expected.size());
  const CycleEstimate model =
      model_cycles(gemm_shape(view, config.tokens), config.array, config.token_depth, config.memory);
  outcome.model_cycles = model.cycles;
  outcome.model_weight_bytes = model.weight_bytes;
  CheckingSink sink(expected, config.out_channels, config.array.cols);
  try {
    const rtl::SimulationResult result =
        rtl::simulate({config.array.rows, config.array.cols}, run.registers(), run, sink,
                      {config.memory.latency_cycles, config.memory.bytes_per_cycle_q16});
    outcome.rtl_cycles = result.cycles;
    outcome.rtl_weight_bytes = result.weight_beats * port_bytes();
    outcome.simulation_seconds = result.wall_seconds;
    outcome.mismatches = sink.mismatches();
  } catch (const std::exception& failure) {
    outcome.error = failure.what();
  }
  return outcome;
}

}  // namespace nmscope::fpga
