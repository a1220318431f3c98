#include "charts/speedup_table.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "nmscope/engine_family.hpp"
#include "nmscope/interleaved_speedup.hpp"
#include "nmscope/model_rollup.hpp"

namespace nmscope::gui {

namespace {

bool is_cycle_counted(const Measurement& m) { return family_counts_cycles(m.engine); }

bool is_measured(const Measurement& m) {
  if (m.status != "ok") return false;
  return is_cycle_counted(m) ? m.cycles && *m.cycles > 0 : m.time_us && *m.time_us > 0;
}

bool same_config(const Measurement& a, const Measurement& b) {
  return a.source_hash == b.source_hash && a.pattern == b.pattern && a.quant.bits == b.quant.bits &&
         a.quant.granularity_name() == b.quant.granularity_name() && a.quant.symmetric == b.quant.symmetric &&
         a.criterion == b.criterion;
}

// The array's dense run that an FPGA variant is compared with: pruned by nothing, so any criterion's will do.
bool is_dense_counterpart(const Measurement& dense, const Measurement& variant) {
  return dense.pattern.is_dense() && dense.source_hash == variant.source_hash &&
         dense.quant.bits == variant.quant.bits && dense.quant.granularity_name() == variant.quant.granularity_name() &&
         dense.quant.symmetric == variant.quant.symmetric;
}

std::string unavailable_reason(const Measurement& m) {
  const std::string why = m.note.empty() ? m.status : m.status + ": " + m.note;
  return why;
}

}  // namespace

std::string baseline_engine_for(const std::string& engine) { return dense_baseline_engine(engine); }

std::string slower_reason(const Measurement& variant, const Speedup& speedup) {
  if (speedup.speedup >= 1) return {};
  if (is_cycle_counted(variant))
    return "more cycles than the dense run on this array: the pattern's slots per scale group leave PEs idle";
  // Below 512 x 512 weights a layer fits the caches of either kernel: what is left to save is fixed costs. The
  // reason names the class, not the shape, so the layers it applies to share one line.
  const int64_t weights = variant.rows * variant.cols;
  if (weights > 0 && weights < 512 * 512)
    return "small layer (under 512x512 weights): fixed costs (threads, launches) outweigh the smaller weights";
  // Past these batches a matmul reads each weight for many columns: compute, not weight bytes, sets the time.
  const auto family = engine_family(variant.engine);
  const int compute_bound_batch = family ? family_traits(*family).compute_bound_batch : 16;
  if (variant.batch >= compute_bound_batch)
    return "batch " + std::to_string(variant.batch) +
           ": compute-bound, where fewer weight bytes no longer help and the dense baseline's kernel is stronger";
  return "memory-bound at this batch, yet slower than the baseline: the kernel streams its fewer bytes below the "
         "baseline's bandwidth (a kernel limit, not the format's)";
}

SpeedupTable speedup_table(const std::vector<Measurement>& measurements, const std::vector<int>& rows) {
  // Measured rows by (study, tensor, batch, engine), in model order: the baselines, and an array's dense runs.
  using Where = std::tuple<std::string, std::string, int, std::string>;
  std::map<Where, std::vector<int>> measured;
  for (int row = 0; row < int(measurements.size()); ++row) {
    const Measurement& m = measurements[size_t(row)];
    if (is_measured(m)) measured[{m.study_id, m.tensor, m.batch, m.engine}].push_back(row);
  }
  SpeedupTable table;
  std::set<std::string> no_baseline;
  std::set<LeftOut> left_out;
  for (int row : rows) {
    const Measurement& m = measurements[size_t(row)];
    if (m.engine == "none") continue;  // accuracy-only rows: nothing to time
    if (!is_measured(m)) {
      if (m.status != "ok") left_out.insert({m.engine, unavailable_reason(m)});
      continue;
    }
    const bool by_cycles = is_cycle_counted(m);
    std::string baseline = baseline_engine_for(m.engine);
    const std::vector<int> none;
    // The measured row of `engine` this row is compared with: the dense run on the same array (cycles), else the
    // same configuration's row, else any row of the same study, tensor and batch.
    const auto counterpart = [&](const std::string& engine) -> std::optional<int> {
      const auto found = measured.find({m.study_id, m.tensor, m.batch, engine});
      const std::vector<int>& candidates = found == measured.end() ? none : found->second;
      std::vector<int>::const_iterator chosen;
      if (by_cycles) {
        chosen = std::find_if(candidates.begin(), candidates.end(),
                              [&](int candidate) { return is_dense_counterpart(measurements[size_t(candidate)], m); });
      } else {
        chosen = std::find_if(candidates.begin(), candidates.end(),
                              [&](int candidate) { return same_config(measurements[size_t(candidate)], m); });
        if (chosen == candidates.end() && !candidates.empty()) chosen = candidates.begin();
      }
      return chosen == candidates.end() ? std::nullopt : std::optional<int>(*chosen);
    };
    std::optional<int> chosen = counterpart(baseline);
    // Timed rows are quoted against the strongest dense baseline measured beside them (the faster of Eigen and
    // oneDNN on the CPU), named in the bar's label.
    if (!by_cycles) {
      const auto strongest =
          strongest_dense_baseline(m.engine, [&](const std::string& engine) -> std::optional<double> {
            const std::optional<int> row = counterpart(engine);
            return row ? measurements[size_t(*row)].time_us : std::nullopt;
          });
      if (strongest) {
        baseline = strongest->engine;
        chosen = counterpart(baseline);
      }
    }
    if (!chosen) {
      no_baseline.insert(m.engine);
      left_out.insert({m.engine, by_cycles ? "no dense int" + std::to_string(m.quant.bits) +
                                                 " run on the same array in the "
                                                 "study (add the dense pattern)"
                                           : "no " + baseline + " measured in the same study, tensor and batch"});
      continue;
    }
    const Measurement& reference = measurements[size_t(*chosen)];
    Speedup speedup;
    speedup.row = row;
    speedup.baseline_row = *chosen;
    speedup.engine = m.engine;
    speedup.baseline = by_cycles ? baseline + " dense" : baseline;
    if (by_cycles) {
      speedup.cycles = *m.cycles;
      speedup.baseline_cycles = *reference.cycles;
      speedup.speedup = double(speedup.baseline_cycles) / double(speedup.cycles);
    } else {
      speedup.time_us = *m.time_us;
      speedup.baseline_time_us = *reference.time_us;
      speedup.speedup = speedup.baseline_time_us / speedup.time_us;
      // Timed round by round with that very baseline row's engine and configuration: its ratio, with its spread.
      if (const auto ratio = interleaved_speedup(m, baseline); ratio && same_config(reference, m)) {
        speedup.speedup = ratio->median;
        speedup.speedup_p10 = ratio->p10;
        speedup.speedup_p90 = ratio->p90;
        speedup.rounds = ratio->rounds;
      }
    }
    speedup.slower_because = slower_reason(m, speedup);
    table.speedups.push_back(speedup);
  }
  table.no_baseline.assign(no_baseline.begin(), no_baseline.end());
  table.left_out.assign(left_out.begin(), left_out.end());
  return table;
}

}  // namespace nmscope::gui
