#include "reports/report_summary.hpp"

#include <cmath>
#include <tuple>

#include "charts/measurement_groups.hpp"
#include "charts/pareto_front.hpp"
#include "charts/speedup_table.hpp"

namespace nmscope::gui {

namespace {

using ConfigKey = std::tuple<NMPattern, QuantConfig, std::string>;

ConfigKey key_of(const Measurement& m) {
  // The dense configuration is pruned by nothing: its criterion does not make another configuration.
  return {m.pattern, m.quant.canonical(), m.pattern.is_dense() ? std::string() : m.criterion};
}

}  // namespace

QString configuration_name(const Measurement& m) {
  QString name = config_label(m);
  if (!m.quant.is_fp16()) {
    if (m.quant.granularity == Granularity::Group)
      name += " g" + QString::number(m.quant.group);
    else
      name += " " + QString::fromStdString(m.quant.granularity_name());
    if (!m.quant.symmetric) name += " asym";
  }
  if (!m.pattern.is_dense() && !m.criterion.empty() && m.criterion != "magnitude")
    name += " " + QString::fromStdString(m.criterion);
  return name;
}

ReportSummary summarize_for_report(const std::vector<Measurement>& measurements) {
  std::vector<int> all_rows;
  for (int row = 0; row < int(measurements.size()); ++row) all_rows.push_back(row);

  // Accuracy and storage: one row per (tensor, configuration), summed and averaged per configuration.
  struct Totals {
    QString name;
    double bytes = 0, weights = 0, weight_err = 0, output_err = 0;
    int tensors = 0;
    std::map<QString, std::vector<double>> log_speedups;
  };
  std::map<ConfigKey, Totals> totals;
  std::vector<ConfigKey> order;
  for (int row : distinct_accuracy_rows(measurements, all_rows)) {
    const Measurement& m = measurements[size_t(row)];
    if (m.storage_bytes <= 0) continue;  // a row that carries no accuracy or storage figures
    auto [it, inserted] = totals.try_emplace(key_of(m));
    if (inserted) order.push_back(key_of(m));
    Totals& total = it->second;
    total.name = configuration_name(m);
    total.bytes += double(m.storage_bytes);
    total.weights += double(m.rows) * double(m.cols);
    total.weight_err += m.weight_rel_err;
    total.output_err += m.output_rel_err;
    ++total.tensors;
  }
  ReportSummary summary;
  for (const Speedup& speedup : speedup_table(measurements, all_rows).speedups) {
    const Measurement& m = measurements[size_t(speedup.row)];
    const auto found = totals.find(key_of(m));
    // A baseline against itself (1x by definition) says nothing about the configuration.
    if (found == totals.end() || !(speedup.speedup > 0) || speedup.row == speedup.baseline_row) continue;
    const QString engine = QString::fromStdString(m.engine);
    found->second.log_speedups[engine].push_back(std::log(speedup.speedup));
    if (!summary.engines.contains(engine)) summary.engines.append(engine);
  }
  summary.engines.sort();

  std::vector<ConfigurationSummary> configurations;
  for (const ConfigKey& key : order) {
    const Totals& total = totals.at(key);
    ConfigurationSummary one;
    one.configuration = total.name;
    one.tensors = total.tensors;
    one.bits_per_weight = total.weights > 0 ? 8 * total.bytes / total.weights : NAN;
    one.weight_rel_err = total.weight_err / total.tensors;
    one.output_rel_err = total.output_err / total.tensors;
    for (const auto& [engine, logs] : total.log_speedups) {
      double sum = 0;
      for (double value : logs) sum += value;
      one.speedup_by_engine[engine] = std::exp(sum / double(logs.size()));
    }
    configurations.push_back(std::move(one));
  }

  std::vector<ParetoPoint> points;
  for (const ConfigurationSummary& one : configurations) points.push_back({one.bits_per_weight, one.weight_rel_err});
  for (int index : pareto_front(points)) summary.pareto.push_back(configurations[size_t(index)]);

  for (double budget : {0.01, 0.05, 0.1, 0.25}) {
    ErrorBudgetChoice choice;
    choice.budget = budget;
    for (const ConfigurationSummary& one : configurations) {
      if (!(one.weight_rel_err <= budget) || std::isnan(one.bits_per_weight)) continue;
      if (!choice.smallest || one.bits_per_weight < choice.smallest->bits_per_weight ||
          (one.bits_per_weight == choice.smallest->bits_per_weight &&
           one.weight_rel_err < choice.smallest->weight_rel_err))
        choice.smallest = one;
    }
    summary.budgets.push_back(std::move(choice));
  }
  return summary;
}

}  // namespace nmscope::gui
