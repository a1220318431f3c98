// nmscope-cli verify --engine gpu (verify_gpu.hpp).
#include "verify_gpu.hpp"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"

namespace nmscope::cli {

namespace {

struct GpuCase {
  NMPattern pattern;
  QuantConfig quant;
  int64_t rows = 0, cols = 0, batch = 0;
};

std::string describe(const GpuCase& c) {
  std::string quant = "int" + std::to_string(c.quant.bits);
  if (c.quant.granularity == Granularity::Group) quant += " g" + std::to_string(c.quant.group);
  if (c.quant.granularity == Granularity::Channel) quant += " per-channel";
  if (c.quant.granularity == Granularity::Tensor) quant += " per-tensor";
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + " b" + std::to_string(c.batch) + " " +
         c.pattern.to_string() + " " + quant;
}

MatrixF random_normal(int64_t rows, int64_t cols, std::mt19937_64& random) {
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(random);
  return matrix;
}

}  // namespace

int verify_gpu(int configs, uint64_t seed, std::ostream& out) {
  std::vector<const Engine*> engines = EngineRegistry::global().select("gpu");
  // Nothing to verify is a failure, said on stderr like every other one (the table goes to `out`).
  if (engines.empty() || !engines.front()->availability().available)
    throw Error("verify", "no GPU variant can run here: " + (engines.empty() ? std::string("none registered")
                                                                             : engines.front()->availability().reason));
  const std::vector<NMPattern> patterns = {
      NMPattern::dense(), {2, 4}, {1, 4}, {4, 8}, {2, 8}, {1, 8}, {1, 2}, {3, 4}, {1, 3}, {2, 6}, {8, 16}};
  const std::vector<int>& bit_widths = packed_kernel_bits();
  const int groups[] = {64, 128, 256, 0, -1};  // 0: per channel, -1: per tensor
  // Shapes with tails past every tile (rows not a multiple of 16 or 128, K not of 64 or 256) and batches across
  // every kernel configuration (small-batch tiles, split-K, large tiles).
  const int64_t batches[] = {1, 2, 5, 8, 13, 16, 31, 40, 77, 128, 300};
  std::mt19937_64 random(seed);
  int failures = 0, passes = 0;
  TimingOptions quick;
  quick.warmup = 1;
  quick.min_repetitions = 1;
  quick.max_repetitions = 3;
  quick.target_seconds = 0.001;
  for (int index = 0; index < configs; ++index) {
    GpuCase c;
    c.pattern = patterns[size_t(index) % patterns.size()];
    c.quant.bits = bit_widths[(index / int(patterns.size())) % 4];
    const int group = groups[random() % 5];
    c.quant.granularity = group > 0 ? Granularity::Group : group == 0 ? Granularity::Channel : Granularity::Tensor;
    if (group > 0) c.quant.group = group;
    c.quant.symmetric = true;
    c.rows = 1 + int64_t(random() % 700);
    c.cols = 1 + int64_t(random() % 1200);
    c.batch = batches[random() % (sizeof(batches) / sizeof(batches[0]))];

    const MatrixF weights = random_normal(c.rows, c.cols, random);
    const NMSelection selection = select_nm(weights, c.pattern, PruningCriterion::Magnitude);
    const PackedMatrix packed = compress(weights, selection, c.quant);
    const MatrixF dequantized = dequantize(packed);
    const MatrixF activations = random_normal(c.batch, c.cols, random);
    const MatrixD reference = reference_product(activations, dequantized);
    const EngineInput input{weights, packed, dequantized, activations, reference, quick, nullptr};
    for (const Engine* engine : engines) {
      if (!engine->supports(c.pattern, c.quant, nullptr)) continue;
      const EngineOutput output = engine->run(input);
      const bool ok = output.status == "ok" && output.engine_rel_err && *output.engine_rel_err < kGpuRelativeErrorLimit;
      char line[512];
      if (output.status == "ok")
        std::snprintf(line, sizeof(line), "%s  %-36s %-26s rel_err %.2e\n", ok ? "PASS" : "FAIL", describe(c).c_str(),
                      engine->name().c_str(), output.engine_rel_err.value_or(-1));
      else
        std::snprintf(line, sizeof(line), "FAIL  %-36s %-26s %s: %s\n", describe(c).c_str(), engine->name().c_str(),
                      output.status.c_str(), output.note.c_str());
      out << line;
      ok ? ++passes : ++failures;
    }
  }
  out << "verify gpu: " << passes << " passed, " << failures << " failed (limit " << kGpuRelativeErrorLimit
      << " relative error, seed " << seed << ")\n";
  return failures == 0 && passes > 0 ? 0 : 1;
}

}  // namespace nmscope::cli
