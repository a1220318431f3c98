#include "charts/speedup_chart.hpp"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QHorizontalBarSeries>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "charts/chart_view.hpp"
#include "charts/measurement_groups.hpp"
#include "charts/speedup_table.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/units.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

QString cell_key(const QString& engine, const QString& category) { return engine + '\n' + category; }

}  // namespace

SpeedupChart::SpeedupChart(ResultsModel* model, QWidget* parent) : ModelChart(model, parent) {
  view()->set_bar_text([this](const QBarSet* set, int index) -> QString {
    // The axis lists the categories bottom-up, categories() top-down.
    const QString category = categories_.value(int(categories_.size()) - 1 - index);
    const auto found = cells_.constFind(cell_key(set->label(), category));
    if (found == cells_.cend()) return {};
    const Cell& cell = *found;
    QString text = QString("<b>%1</b><br>%2<br>speedup %3x vs %4")
                       .arg(set->label(), category)
                       .arg(cell.speedup, 0, 'g', 3)
                       .arg(cell.baseline.toHtmlEscaped());
    if (cell.spread_samples == 1 && cell.samples == 1) {
      text += QString("<br>p10–p90 %1x – %2x over %3 alternating rounds with the baseline")
                  .arg(cell.spread_low, 0, 'g', 3)
                  .arg(cell.spread_high, 0, 'g', 3)
                  .arg(cell.rounds);
    } else if (cell.spread_samples > 1) {
      text += QString("<br>p10–p90 %1x – %2x (geometric means over %3 tensors timed round by round)")
                  .arg(cell.spread_low, 0, 'g', 3)
                  .arg(cell.spread_high, 0, 'g', 3)
                  .arg(cell.spread_samples);
    }
    if (cell.samples > 1) {
      text += QString("<br>geometric mean of %1 tensors (%2x – %3x)")
                  .arg(cell.samples)
                  .arg(cell.lowest, 0, 'g', 3)
                  .arg(cell.highest, 0, 'g', 3);
    } else if (cell.cycles > 0) {
      text += QString("<br>%1 cycles vs %2 cycles").arg(cell.cycles).arg(cell.baseline_cycles);
    } else {
      text += QString("<br>%1 vs %2")
                  .arg(QString::fromStdString(format_microseconds(cell.time_us)),
                       QString::fromStdString(format_microseconds(cell.baseline_time_us)));
    }
    if (!cell.slower_because.isEmpty()) text += "<br><i>below 1x: " + cell.slower_because.toHtmlEscaped() + "</i>";
    return text;
  });
  rebuild();
}

QString SpeedupChart::slower_because(const QString& engine, const QString& category) const {
  const auto found = cells_.constFind(cell_key(engine, category));
  return found == cells_.cend() || found->speedup >= 1 ? QString() : found->slower_because;
}

QPair<double, double> SpeedupChart::spread(const QString& engine, const QString& category) const {
  const double none = std::numeric_limits<double>::quiet_NaN();
  const auto found = cells_.constFind(cell_key(engine, category));
  if (found == cells_.cend() || found->spread_samples == 0) return {none, none};
  return {found->spread_low, found->spread_high};
}

double SpeedupChart::speedup(const QString& engine, const QString& category) const {
  const auto found = cells_.constFind(cell_key(engine, category));
  return found == cells_.cend() ? std::numeric_limits<double>::quiet_NaN() : found->speedup;
}

void SpeedupChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  engines_.clear();
  categories_.clear();
  baselines_.clear();
  cells_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  const SpeedupTable table = speedup_table(all, effective_rows(all, rows()));

  // Categories: configurations densest first, then batch; bar sets: each baseline first, then the variants by name.
  std::set<std::string> baselines;
  std::set<std::pair<ConfigLabel, int>> configs;
  std::map<QString, std::vector<double>> log_speedups;  // by cell key
  std::map<QString, std::pair<double, double>> log_spreads;  // by cell key: sums of log p10, log p90
  for (const Speedup& entry : table.speedups) {
    const Measurement& m = all[size_t(entry.row)];
    baselines.insert(entry.baseline);
    configs.insert({config_label_of(m), m.batch});
    const QString engine = QString::fromStdString(entry.engine);
    if (!engines_.contains(engine)) engines_.append(engine);
    const QString key = cell_key(engine, QString("%1, b%2").arg(config_label(m)).arg(m.batch));
    log_speedups[key].push_back(std::log(entry.speedup));
    Cell& cell = cells_[key];
    cell.lowest = cell.samples == 0 ? entry.speedup : std::min(cell.lowest, entry.speedup);
    cell.highest = cell.samples == 0 ? entry.speedup : std::max(cell.highest, entry.speedup);
    cell.time_us = entry.time_us;
    cell.baseline_time_us = entry.baseline_time_us;
    cell.cycles = entry.cycles;
    cell.baseline_cycles = entry.baseline_cycles;
    cell.baseline = QString::fromStdString(entry.baseline);
    if (!entry.slower_because.empty()) cell.slower_because = QString::fromStdString(entry.slower_because);
    ++cell.samples;
    if (entry.rounds > 0 && entry.speedup_p10 > 0 && entry.speedup_p90 > 0) {
      log_spreads[key].first += std::log(entry.speedup_p10);
      log_spreads[key].second += std::log(entry.speedup_p90);
      cell.rounds = entry.rounds;
      ++cell.spread_samples;
    }
  }
  for (const auto& [key, sums] : log_spreads) {
    Cell& cell = cells_[key];
    cell.spread_low = std::exp(sums.first / cell.spread_samples);
    cell.spread_high = std::exp(sums.second / cell.spread_samples);
  }
  for (auto& [key, logs] : log_speedups) {
    double sum = 0;
    for (double value : logs) sum += value;
    cells_[key].speedup = std::exp(sum / double(logs.size()));
  }
  for (const std::string& name : baselines) baselines_.append(QString::fromStdString(name));
  // The set is ordered by configuration (ConfigLabel), then batch.
  for (const auto& [label, batch] : configs) categories_.append(QString("%1, b%2").arg(label.text).arg(batch));
  std::sort(engines_.begin(), engines_.end(), [this](const QString& a, const QString& b) {
    const bool a_base = baselines_.contains(a);
    const bool b_base = baselines_.contains(b);
    return a_base != b_base ? a_base : a < b;
  });

  // Horizontal bars: the category labels ("2:4 int4, b16") stay readable however many configurations there are.
  auto* series = new QHorizontalBarSeries;
  QStringList bottom_up = categories_;
  std::reverse(bottom_up.begin(), bottom_up.end());
  for (const QString& engine : engines_) {
    auto* set = new QBarSet(engine);
    set->setLabelColor(QColor(50, 50, 50));
    set->setColor(ChartView::palette_color(int(series->count())));
    set->setBorderColor(set->color());
    for (const QString& category : bottom_up) {
      const double value = speedup(engine, category);
      // A variant not measured in a category gets an empty slot, keeping the other variants' bars aligned.
      *set << (std::isnan(value) ? 0.0 : value);
    }
    series->append(set);
  }
  series->setBarWidth(0.8);
  series->setLabelsVisible(true);
  series->setLabelsFormat("@valuex");
  series->setLabelsPrecision(3);
  series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
  chart_view->chart()->addSeries(series);

  auto* category_axis = new QBarCategoryAxis;
  category_axis->append(bottom_up.isEmpty() ? QStringList{QString(" ")} : bottom_up);
  category_axis->setTitleText(tr("configuration, batch"));
  category_axis->setTruncateLabels(false);  // Qt elides them to "…" long before they run out of room
  chart_view->chart()->addAxis(category_axis, Qt::AlignLeft);
  series->attachAxis(category_axis);
  // The baselines by name; the FPGA arrays, each compared with its own dense run, as one phrase however many.
  QStringList named;
  bool arrays = false;
  for (const QString& baseline : baselines_) {
    if (baseline_is_dense_configuration(baseline.toStdString()))
      arrays = true;
    else
      named.append(baseline);
  }
  if (arrays) named.append(tr("each FPGA array's dense run"));
  // Each bar is against the strongest dense baseline measured beside it (Eigen or oneDNN, whichever was faster there).
  const QString against = named.isEmpty()     ? tr("the family baseline")
                          : named.size() == 1 ? named.front()
                                              : tr("the strongest dense baseline (%1)").arg(named.join(tr(" / ")));
  const QList<QAbstractSeries*> whiskers = add_whiskers(bottom_up, int(series->count()));
  chart_view->add_value_axis(Qt::AlignBottom, tr("speedup vs %1 (x)").arg(against),
                             QList<QAbstractSeries*>{series} + whiskers);
  chart_view->show_message(table.speedups.empty() ? tr("no timed engine measurements in the selection") : QString());

  // What has no bar, and why; then what is below 1x, and why. Variants that share a reason share a line.
  std::map<QString, QStringList> engines_by_reason;
  for (const LeftOut& entry : table.left_out)
    engines_by_reason[QString::fromStdString(entry.reason)].append(QString::fromStdString(entry.engine));
  QStringList lines;
  for (const auto& [reason, engines] : engines_by_reason) {
    const QString who = engines.size() > 4
                            ? QString("%1 variants (%2, …)").arg(engines.size()).arg(engines.mid(0, 3).join(", "))
                            : engines.join(", ");
    lines.append(tr("No bar for %1 — %2").arg(who, reason));
  }
  std::map<QString, QStringList> slow_by_reason;
  for (const QString& engine : engines_)
    for (const QString& category : categories_)
      if (const QString why = slower_because(engine, category); !why.isEmpty())
        slow_by_reason[why].append(engine + " at " + category);
  for (const auto& [reason, where] : slow_by_reason) {
    const QString who = where.size() > 3 ? QString("%1 bars (%2, …)").arg(where.size()).arg(where.mid(0, 2).join("; "))
                                         : where.join("; ");
    lines.append(tr("Below 1x: %1 — %2").arg(who, reason));
  }
  const QString note = lines.join("\n");
  set_note(note);
  // The note goes into the title too, so an exported image does not silently drop variants.
  QString title = tr("Speedup vs %1 (same study, tensor and batch)").arg(against).toHtmlEscaped();
  if (!note.isEmpty()) title += "<br><small><i>" + note.toHtmlEscaped().replace("\n", "<br>") + "</i></small>";
  chart_view->chart()->setTitle(title);
  chart_view->finish_rebuild();
  // finish_rebuild shows every axis and legend entry; the whiskers' position axis and entries stay hidden.
  for (QAbstractSeries* whisker : whiskers) {
    for (QLegendMarker* marker : chart_view->chart()->legend()->markers(whisker)) marker->setVisible(false);
    for (QAbstractAxis* axis : whisker->attachedAxes())
      if (axis->orientation() == Qt::Vertical) axis->setVisible(false);
  }
}

// One I-shaped line per bar with a spread, from p10 to p90, at the bar's height. A horizontal bar series puts
// category k at k on the vertical axis and its bar sets side by side over 0.8 of it (setBarWidth): a hidden value
// axis over -0.5 .. n-0.5 places the lines on them.
QList<QAbstractSeries*> SpeedupChart::add_whiskers(const QStringList& bottom_up, int bar_sets) {
  QList<QAbstractSeries*> whiskers;
  whiskers_ = 0;
  if (bar_sets == 0) return whiskers;
  auto* position_axis = new QValueAxis;
  position_axis->setRange(-0.5, double(bottom_up.size()) - 0.5);
  view()->chart()->addAxis(position_axis, Qt::AlignRight);
  const double slot = 0.8 / bar_sets, cap = slot * 0.3;
  for (int set = 0; set < int(engines_.size()); ++set)
    for (int category = 0; category < int(bottom_up.size()); ++category) {
      const auto [low, high] = spread(engines_[set], bottom_up[category]);
      if (std::isnan(low)) continue;
      const double y = category - 0.4 + (set + 0.5) * slot;
      auto* line = new QLineSeries;
      line->setName(engines_[set] + " p10–p90");
      line->append({{low, y - cap}, {low, y + cap}, {low, y}, {high, y}, {high, y - cap}, {high, y + cap}});
      line->setPen(QPen(QColor(40, 40, 40), 1.5));
      view()->chart()->addSeries(line);
      line->attachAxis(position_axis);
      whiskers.append(line);
      ++whiskers_;
    }
  return whiskers;
}

}  // namespace nmscope::gui
