#include "nmscope/sweep_plan.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>
#include <optional>
#include <queue>
#include <regex>
#include <tuple>

#include "nmscope/engine_family.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

// Token depth of the cost model: a fixed figure, not the RTL build's, so the estimate cannot differ between builds.
constexpr int kCostTokenDepth = 16;
// What a timed engine spends besides the weights it touches (warm-up, the timing loop's fixed budget), in the same
// units: about one 1024x1024 layer, so a sweep of tiny layers is not planned as if it were free.
constexpr int64_t kPointOverhead = int64_t(1) << 20;

bool is_fpga(const std::string& engine) { return is_engine_of(EngineFamily::Fpga, engine); }

}  // namespace

std::vector<SweepTensor> list_sweep_tensors(const SweepSpec& spec) {
  std::optional<std::regex> pattern;
  if (!spec.tensor_regex.empty()) pattern.emplace(spec.tensor_regex);
  std::vector<SweepTensor> tensors;
  for (std::size_t source = 0; source < spec.sources.size(); ++source) {
    const auto opened = open_weight_source(spec.sources[source]);
    for (const TensorInfo& info : opened->tensors()) {
      if (!info.is_matrix) continue;
      if (pattern && !std::regex_search(info.name, *pattern)) continue;
      tensors.push_back({int(source), info.name, info.rows(), info.cols()});
    }
  }
  if (tensors.empty())
    throw Error("sweep spec", spec.tensor_regex.empty()
                                  ? "its sources hold no matrix"
                                  : "no matrix of its sources matches \"" + spec.tensor_regex + "\"");
  return tensors;
}

int64_t estimate_point_cost(const SweepTensor& tensor, const NMPattern& pattern, const QuantConfig& quant,
                            const std::string& engine, int batch) {
  const int64_t weights = tensor.rows * tensor.cols;
  // Pruning, quantizing, packing and the accuracy figures: every point pays them once.
  const int64_t preparation = weights;
  if (engine == "none") return preparation;
  if (is_fpga(engine)) {
    const fpga::ArraySize array = fpga::parse_array_size(engine.substr(std::string("fpga/systolic-").size()));
    fpga::GemmShape shape;
    shape.out_channels = tensor.rows;
    shape.in_features = tensor.cols;
    shape.n = pattern.kept_per_group;
    shape.m = pattern.group_size;
    shape.quant_group = quant.granularity == Granularity::Group ? quant.group : 0;
    shape.bits = quant.bits;
    shape.tokens = batch;
    if (!fpga::unsupported_reason(shape, array).empty()) return preparation + kPointOverhead;
    const int64_t cycles = fpga::model_cycles(shape, array, kCostTokenDepth).cycles;
    return preparation + kPointOverhead + cycles * array.rows * array.cols;
  }
  return preparation + kPointOverhead + weights * batch;
}

SweepPlan plan_sweep(const SweepSpec& spec, std::vector<SweepTensor> tensors) {
  SweepPlan plan;
  plan.tensors = std::move(tensors);
  const EngineRegistry registry = EngineRegistry::with_options(spec.engine_options);  // owns the selected engines
  const std::vector<const Engine*> selected = registry.select(spec.engine_list());
  for (const Engine* engine : selected) plan.engines.push_back(engine->name());
  const bool accuracy_only = plan.engines.empty();
  if (accuracy_only) plan.engines.push_back("none");

  // Which (pattern, bits, engine) an engine measures: supports() is pure configuration logic, the same on a machine
  // with or without the engine's hardware (availability is deliberately not asked).
  std::vector<char> measured(spec.patterns.size() * spec.bits.size() * plan.engines.size());
  auto measured_at = [&](std::size_t p, std::size_t b, std::size_t e) -> char& {
    return measured[(p * spec.bits.size() + b) * plan.engines.size() + e];
  };
  for (std::size_t p = 0; p < spec.patterns.size(); ++p)
    for (std::size_t b = 0; b < spec.bits.size(); ++b)
      for (std::size_t e = 0; e < plan.engines.size(); ++e)
        measured_at(p, b, e) =
            accuracy_only || selected[e]->supports(spec.patterns[p], spec.quant_config(spec.bits[b]), nullptr);

  // Costs depend on the shape, not the tensor: a model repeats a handful of shapes, so each is costed once.
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> cost_by_shape;
  const std::size_t batch_count = accuracy_only ? 1 : spec.batches.size();
  auto costs_of = [&](const SweepTensor& tensor) -> const std::vector<int64_t>& {
    auto [entry, inserted] = cost_by_shape.try_emplace({tensor.rows, tensor.cols});
    if (inserted) {
      entry->second.resize(measured.size() * batch_count);
      for (std::size_t p = 0; p < spec.patterns.size(); ++p)
        for (std::size_t b = 0; b < spec.bits.size(); ++b)
          for (std::size_t e = 0; e < plan.engines.size(); ++e)
            for (std::size_t n = 0; n < batch_count; ++n)
              if (measured_at(p, b, e))
                entry->second[((p * spec.bits.size() + b) * plan.engines.size() + e) * batch_count + n] =
                    estimate_point_cost(tensor, spec.patterns[p], spec.quant_config(spec.bits[b]), plan.engines[e],
                                        accuracy_only ? 0 : spec.batches[n]);
    }
    return entry->second;
  };

  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    const std::vector<int64_t>& costs = costs_of(plan.tensors[t]);
    for (std::size_t c = 0; c < spec.criteria.size(); ++c)
      for (std::size_t p = 0; p < spec.patterns.size(); ++p)
        for (std::size_t b = 0; b < spec.bits.size(); ++b)
          for (std::size_t e = 0; e < plan.engines.size(); ++e) {
            if (!measured_at(p, b, e)) continue;
            for (std::size_t n = 0; n < batch_count; ++n) {
              plan.points.push_back(
                  {int32_t(t), int16_t(c), int16_t(p), int16_t(b), int16_t(e), int16_t(accuracy_only ? -1 : int(n))});
              plan.costs.push_back(costs[((p * spec.bits.size() + b) * plan.engines.size() + e) * batch_count + n]);
            }
          }
  }
  if (plan.points.empty()) throw Error("sweep spec", "no engine measures any of its configurations");
  return plan;
}

ShardSelection parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  auto whole = [&](std::string_view part, int& value) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    return !part.empty() && ec == std::errc() && end == part.data() + part.size();
  };
  ShardSelection shard;
  if (slash == std::string::npos || !whole(std::string_view(text).substr(0, slash), shard.index) ||
      !whole(std::string_view(text).substr(slash + 1), shard.count))
    throw SettingError(Setting::Shard, "'" + text + "' is not I/N (e.g. 0/4: the first of four shards)");
  if (shard.count < 1) throw SettingError(Setting::Shard, "'" + text + "': N must be at least 1");
  if (shard.index < 0 || shard.index >= shard.count)
    throw SettingError(Setting::Shard, "'" + text + "': I must be in 0.." + std::to_string(shard.count - 1));
  return shard;
}

double ShardAssignment::imbalance() const {
  if (cost_per_shard.empty()) return 1;
  const long double total = std::accumulate(cost_per_shard.begin(), cost_per_shard.end(), (long double)0);
  if (total == 0) return 1;
  const long double mean = total / cost_per_shard.size();
  return double(*std::max_element(cost_per_shard.begin(), cost_per_shard.end()) / mean);
}

ShardAssignment assign_shards(std::span<const int64_t> costs, int shard_count) {
  if (shard_count < 1) throw SettingError(Setting::Shard, "N must be at least 1");
  if (std::size_t(shard_count) > costs.size())
    throw SettingError(Setting::Shard, "N = " + std::to_string(shard_count) +
                                           " is more shards than the sweep has points (" +
                                           std::to_string(costs.size()) + ")");
  std::vector<int32_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return costs[a] != costs[b] ? costs[a] > costs[b] : a < b; });

  ShardAssignment assignment;
  assignment.shard_of.assign(costs.size(), 0);
  assignment.points_per_shard.assign(shard_count, 0);
  assignment.cost_per_shard.assign(shard_count, 0);
  using Load = std::pair<int64_t, int32_t>;  // (cost so far, shard): the smallest pair is the next to fill
  std::priority_queue<Load, std::vector<Load>, std::greater<>> least_loaded;
  for (int32_t shard = 0; shard < shard_count; ++shard) least_loaded.push({0, shard});
  for (int32_t point : order) {
    auto [load, shard] = least_loaded.top();
    least_loaded.pop();
    assignment.shard_of[point] = shard;
    ++assignment.points_per_shard[shard];
    assignment.cost_per_shard[shard] = load + costs[point];
    least_loaded.push({load + costs[point], shard});
  }
  return assignment;
}

SweepPlan plan_sweep_file(const std::string& path, SweepSpec& spec) {
  spec = read_sweep_spec(path);
  try {
    return plan_sweep(spec, list_sweep_tensors(spec));
  } catch (const Error& error) {
    if (error.subject() == "sweep spec") throw Error(path, error.reason());
    throw;
  }
}

}  // namespace nmscope
