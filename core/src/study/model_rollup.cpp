// rollup_model_study: groups the per-layer rows by (configuration, engine, batch), adds them up for the whole model
// and per role, and divides each engine's per-token time into its dense baseline's.
#include "nmscope/model_rollup.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace nmscope {

namespace {

using ConfigKey = std::tuple<NMPattern, QuantConfig, std::string>;      // pattern, quantization, criterion
using GroupKey = std::tuple<ConfigKey, std::string, int, std::string>;  // + engine, batch, role

ConfigKey config_of(const Measurement& row) { return {row.pattern, row.quant.canonical(), row.criterion}; }

ModelRollupRow sum_rows(const std::vector<const Measurement*>& rows) {
  ModelRollupRow rollup;
  const Measurement& first = *rows.front();
  rollup.study_id = first.study_id;
  rollup.source = first.source;
  rollup.pattern = first.pattern;
  rollup.quant = first.quant.canonical();
  rollup.criterion = first.criterion;
  rollup.engine = first.engine;
  rollup.batch = first.batch;
  rollup.layers = int64_t(rows.size());
  rollup.min_sqnr_db = std::numeric_limits<double>::infinity();
  double time = 0;
  int64_t untimed = 0;
  std::set<std::pair<int64_t, int64_t>> shapes;
  for (const Measurement* row : rows) {
    rollup.weight_count += row->rows * row->cols;
    rollup.storage_bytes += row->storage_bytes;
    rollup.mean_weight_rel_err += row->weight_rel_err;
    rollup.max_weight_rel_err = std::max(rollup.max_weight_rel_err, row->weight_rel_err);
    rollup.mean_output_rel_err += row->output_rel_err;
    rollup.max_output_rel_err = std::max(rollup.max_output_rel_err, row->output_rel_err);
    rollup.min_sqnr_db = std::min(rollup.min_sqnr_db, row->sqnr_db);
    if (row->time_us && row->status == "ok")
      time += *row->time_us;
    else
      ++untimed;
    if (row->engine != "none" && row->details_json.find("\"timed_on\"") == std::string::npos) {
      ++rollup.layers_timed;
      shapes.insert({row->rows, row->cols});
    }
  }
  rollup.shapes_timed = int64_t(shapes.size());
  rollup.fp16_bytes = 2 * rollup.weight_count;
  rollup.compression_vs_fp16 = rollup.storage_bytes > 0 ? double(rollup.fp16_bytes) / double(rollup.storage_bytes) : 0;
  rollup.mean_weight_rel_err /= double(rows.size());
  rollup.mean_output_rel_err /= double(rows.size());
  if (first.engine != "none") {
    if (untimed == 0) {
      rollup.time_us = time;
      rollup.time_per_token_us = time / double(first.batch);
    } else {
      rollup.note = std::to_string(untimed) + " of " + std::to_string(rows.size()) + " layers have no time (" +
                    first.status + (first.note.empty() ? "" : ": " + first.note) + ")";
    }
  }
  return rollup;
}

}  // namespace

std::vector<ModelRollupRow> rollup_model_study(const std::vector<ModelLayer>& layers,
                                               const std::vector<Measurement>& rows, const std::string& model) {
  std::unordered_map<std::string, const ModelLayer*> layer_of;
  for (const auto& layer : layers) layer_of.emplace(layer.tensor, &layer);
  // Groups in first-seen order, so the rollup follows the study's order of configurations, engines and batches.
  std::map<GroupKey, std::vector<const Measurement*>> groups;
  std::vector<GroupKey> order;
  for (const Measurement& row : rows) {
    const auto layer = layer_of.find(row.tensor);
    if (layer == layer_of.end()) continue;
    for (const std::string& role : {std::string("all"), layer->second->role}) {
      const GroupKey key{config_of(row), row.engine, row.batch, role};
      auto [group, inserted] = groups.try_emplace(key);
      if (inserted) order.push_back(key);
      group->second.push_back(&row);
    }
  }
  std::map<GroupKey, size_t> index_of;
  std::vector<ModelRollupRow> rollup;
  for (const GroupKey& key : order) {
    ModelRollupRow summed = sum_rows(groups.at(key));
    summed.model = model;
    summed.role = std::get<3>(key);
    index_of[key] = rollup.size();
    rollup.push_back(std::move(summed));
  }
  // Speedups: against the strongest dense baseline's rollup of the same configuration, batch and role (cpu, gpu: the
  // fastest of the family's dense libraries measured), or against the same engine's rollup of the dense
  // configuration with the same bits (fpga).
  for (ModelRollupRow& row : rollup) {
    if (row.engine == "none") continue;
    const std::string baseline = dense_baseline_engine(row.engine);
    ConfigKey config{row.pattern, row.quant, row.criterion};
    if (baseline_is_dense_configuration(row.engine)) {
      row.baseline = baseline + " dense";
      // The dense configuration is pruned by nothing, so any criterion's dense rows will do.
      const ModelRollupRow* found = nullptr;
      for (const ModelRollupRow& other : rollup)
        if (other.engine == baseline && other.pattern.is_dense() && other.quant == row.quant &&
            other.batch == row.batch && other.role == row.role)
          found = &other;
      if (!found) {
        row.note += std::string(row.note.empty() ? "" : "; ") + "no speedup: the study has no dense " +
                    std::to_string(row.quant.bits) + "-bit configuration on " + baseline + " (add --pattern dense)";
        continue;
      }
      row.baseline_time_per_token_us = found->time_per_token_us;
    } else {
      // The strongest dense baseline measured for the same configuration, batch and role: the faster of the family's
      // dense libraries (Eigen and oneDNN on the CPU), named in the row.
      const auto strongest =
          strongest_dense_baseline(row.engine, [&](const std::string& engine) -> std::optional<double> {
            const auto found = index_of.find(GroupKey{config, engine, row.batch, row.role});
            if (found == index_of.end() || !std::isfinite(rollup[found->second].time_per_token_us)) return std::nullopt;
            return rollup[found->second].time_per_token_us;
          });
      if (!strongest) {
        row.baseline = baseline;
        row.note += std::string(row.note.empty() ? "" : "; ") + "no speedup: " + baseline + " was not measured";
        continue;
      }
      row.baseline = strongest->engine;
      row.baseline_time_per_token_us = strongest->time_us;
    }
    if (std::isfinite(row.baseline_time_per_token_us) && std::isfinite(row.time_per_token_us) &&
        row.time_per_token_us > 0)
      row.speedup = row.baseline_time_per_token_us / row.time_per_token_us;
  }
  return rollup;
}

}  // namespace nmscope
