#include "charts/speedup_table.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace nmscope::gui {

namespace {

bool is_timed(const Measurement& m) { return m.status == "ok" && m.time_us && *m.time_us > 0; }

bool same_config(const Measurement& a, const Measurement& b) {
  return a.source_hash == b.source_hash && a.pattern == b.pattern && a.bits == b.bits &&
         a.granularity == b.granularity && a.symmetric == b.symmetric && a.criterion == b.criterion;
}

}  // namespace

std::string baseline_engine_for(const std::string& engine) {
  if (engine.rfind("cpu/", 0) == 0) return "cpu/eigen-fp32-dense";
  if (engine.rfind("gpu/", 0) == 0) return "gpu/cublas-fp16-dense";
  return {};
}

SpeedupTable speedup_table(const std::vector<Measurement>& measurements, const std::vector<int>& rows) {
  // Timed baseline rows by (study, tensor, batch, baseline engine), in model order.
  using Where = std::tuple<std::string, std::string, int, std::string>;
  std::map<Where, std::vector<int>> baselines;
  for (int row = 0; row < int(measurements.size()); ++row) {
    const Measurement& m = measurements[size_t(row)];
    if (is_timed(m)) baselines[{m.study_id, m.tensor, m.batch, m.engine}].push_back(row);
  }
  SpeedupTable table;
  std::set<std::string> no_baseline;
  for (int row : rows) {
    const Measurement& m = measurements[size_t(row)];
    if (!is_timed(m)) continue;
    const std::string baseline = baseline_engine_for(m.engine);
    const auto found = baseline.empty() ? baselines.end() : baselines.find({m.study_id, m.tensor, m.batch, baseline});
    if (found == baselines.end()) {
      no_baseline.insert(m.engine);
      continue;
    }
    const std::vector<int>& candidates = found->second;
    const auto same = std::find_if(candidates.begin(), candidates.end(),
                                   [&](int candidate) { return same_config(measurements[size_t(candidate)], m); });
    const int baseline_row = same != candidates.end() ? *same : candidates.front();
    Speedup speedup;
    speedup.row = row;
    speedup.baseline_row = baseline_row;
    speedup.engine = m.engine;
    speedup.baseline = baseline;
    speedup.time_us = *m.time_us;
    speedup.baseline_time_us = *measurements[size_t(baseline_row)].time_us;
    speedup.speedup = speedup.baseline_time_us / speedup.time_us;
    table.speedups.push_back(speedup);
  }
  table.no_baseline.assign(no_baseline.begin(), no_baseline.end());
  return table;
}

}  // namespace nmscope::gui
