#include "charts/measurement_groups.hpp"

#include <QStringList>
#include <algorithm>
#include <map>
#include <tuple>

namespace nmscope::gui {

double error_value(const Measurement& measurement, ErrorMetric metric) {
  return metric == ErrorMetric::WeightRelErr ? measurement.weight_rel_err : measurement.output_rel_err;
}

QString error_metric_name(ErrorMetric metric) {
  return metric == ErrorMetric::WeightRelErr ? "weight_rel_err" : "output_rel_err";
}

QString config_label(const Measurement& measurement) {
  return QString::fromStdString(measurement.pattern.to_string() + ' ' + measurement.quant.bits_name());
}

bool operator<(const ConfigLabel& a, const ConfigLabel& b) {
  if (a.pattern.density() != b.pattern.density()) return a.pattern.density() > b.pattern.density();
  if (a.pattern.group_size != b.pattern.group_size) return a.pattern.group_size < b.pattern.group_size;
  if (a.bits != b.bits) return a.bits > b.bits;
  return a.text < b.text;
}

ConfigLabel config_label_of(const Measurement& measurement) {
  return {measurement.pattern, measurement.quant.bits, config_label(measurement)};
}

QHash<QString, QString> distinguishing_names(const QStringList& names) {
  QHash<QString, QString> result;
  for (const QString& name : names) result.insert(name, name);
  if (names.size() < 2) return result;
  QList<QStringList> parts;
  for (const QString& name : names) parts.append(name.split('.'));
  qsizetype shortest = parts.front().size();
  for (const QStringList& one : parts) shortest = std::min(shortest, one.size());
  const auto all_equal = [&](auto part_of) {
    for (const QStringList& one : parts)
      if (part_of(one) != part_of(parts.front())) return false;
    return true;
  };
  qsizetype head = 0, tail = 0;
  while (head < shortest - 1 && all_equal([&](const QStringList& one) { return one[head]; })) ++head;
  // "layers.1" reads as a block, "1" alone does not: a number keeps the word before it.
  bool number_follows = false;
  for (const QStringList& one : parts) {
    bool numeric = false;
    one[head].toInt(&numeric);
    number_follows = number_follows || numeric;
  }
  if (head > 0 && number_follows) --head;
  while (tail < shortest - 1 - head && all_equal([&](const QStringList& one) { return one[one.size() - 1 - tail]; }))
    ++tail;
  for (int index = 0; index < names.size(); ++index) {
    const QStringList& one = parts[index];
    const QString shortened = one.mid(head, one.size() - head - tail).join('.');
    if (!shortened.isEmpty()) result.insert(names[index], shortened);
  }
  return result;
}

std::vector<int> effective_rows(const std::vector<Measurement>& measurements, const QList<int>& rows) {
  std::vector<int> result;
  if (rows.isEmpty()) {
    for (int row = 0; row < int(measurements.size()); ++row) result.push_back(row);
    return result;
  }
  for (int row : rows)
    if (row >= 0 && row < int(measurements.size())) result.push_back(row);
  return result;
}

std::vector<int> distinct_accuracy_rows(const std::vector<Measurement>& measurements, const std::vector<int>& rows) {
  using Key = std::tuple<std::string, std::string, NMPattern, QuantConfig, std::string>;
  std::map<Key, size_t> slot_of;
  std::vector<int> result;
  for (int row : rows) {
    const Measurement& m = measurements[size_t(row)];
    // A decode-step row times a whole model step: it has no matrix, so no weight error (stored as 0) to plot.
    if (m.rows <= 0 || m.cols <= 0) continue;
    const Key key{m.source_hash, m.tensor, m.pattern, m.quant.canonical(), m.criterion};
    const auto [it, inserted] = slot_of.emplace(key, result.size());
    if (inserted) {
      result.push_back(row);
    } else if (m.engine == "none" && measurements[size_t(result[it->second])].engine != "none") {
      result[it->second] = row;
    }
  }
  return result;
}

}  // namespace nmscope::gui
