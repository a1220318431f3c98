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
  const QString bits = measurement.quant.bits == 16 ? QString("fp16") : QString("int%1").arg(measurement.quant.bits);
  return QString::fromStdString(measurement.pattern.to_string()) + ' ' + bits;
}

namespace {

// (kept fraction, pattern, bits) of a label; dense keeps everything.
std::tuple<double, QString, int> label_order_key(const QString& label) {
  const QStringList parts = label.split(' ');
  double kept = 1;
  if (const QStringList nm = parts.value(0).split(':'); nm.size() == 2 && nm[1].toInt() > 0)
    kept = nm[0].toDouble() / nm[1].toDouble();
  QString bits = parts.value(1);
  bits.remove(QChar(','));  // "int4," when more follows the label
  const int bit_count = bits == "fp16" ? 16 : bits.mid(3).toInt();
  return {kept, parts.value(0), bit_count};
}

}  // namespace

bool config_label_before(const QString& a, const QString& b) {
  const auto [kept_a, pattern_a, bits_a] = label_order_key(a);
  const auto [kept_b, pattern_b, bits_b] = label_order_key(b);
  if (kept_a != kept_b) return kept_a > kept_b;
  if (pattern_a != pattern_b) return pattern_a < pattern_b;  // 2:4 and 4:8 keep as much, but are told apart
  if (bits_a != bits_b) return bits_a > bits_b;
  return a < b;
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
