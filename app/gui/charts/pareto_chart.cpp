#include "charts/pareto_chart.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <algorithm>
#include <map>
#include <set>

#include "charts/chart_view.hpp"
#include "charts/pareto_front.hpp"
#include "nmscope/synthetic.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

double bits_per_weight(const Measurement& m) {
  const double weights = double(m.rows) * double(m.cols);
  return weights > 0 ? double(m.storage_bytes) * 8.0 / weights : 0;
}

// The row's group, ordered as ConfigLabel orders: patterns densest first, bit widths widest first, so the legend
// reads from "no compression" to "most".
ConfigLabel group_of(const Measurement& m, ParetoChart::Grouping grouping) {
  if (grouping == ParetoChart::Grouping::ByPattern)
    return {m.pattern, 16, QString::fromStdString(m.pattern.to_string())};
  return {NMPattern::dense(), m.quant.bits, QString::fromStdString(m.quant.bits_name())};
}

}  // namespace

ParetoChart::ParetoChart(ResultsModel* model, QWidget* parent)
    : ModelChart(model, parent),
      storage_choice_(new QComboBox(this)),
      metric_choice_(new QComboBox(this)),
      grouping_choice_(new QComboBox(this)),
      log_y_choice_(new QCheckBox(tr("log error"), this)) {
  storage_choice_->addItem(tr("bits per weight"));
  storage_choice_->addItem(tr("compression vs fp16"));
  metric_choice_->addItem("weight_rel_err");
  metric_choice_->addItem("output_rel_err");
  grouping_choice_->addItem(tr("by pattern"));
  grouping_choice_->addItem(tr("by bits"));
  log_y_choice_->setChecked(true);
  int at = 0;
  controls()->insertWidget(at++, new QLabel(tr("Storage:"), this));
  controls()->insertWidget(at++, storage_choice_);
  controls()->insertWidget(at++, new QLabel(tr("Error:"), this));
  controls()->insertWidget(at++, metric_choice_);
  controls()->insertWidget(at++, new QLabel(tr("Series:"), this));
  controls()->insertWidget(at++, grouping_choice_);
  controls()->insertWidget(at++, log_y_choice_);
  connect(storage_choice_, &QComboBox::currentIndexChanged, this, [this](int index) {
    set_storage_axis(index == 0 ? StorageAxis::BitsPerWeight : StorageAxis::CompressionVsFp16);
  });
  connect(metric_choice_, &QComboBox::currentIndexChanged, this,
          [this](int index) { set_error_metric(index == 0 ? ErrorMetric::WeightRelErr : ErrorMetric::OutputRelErr); });
  connect(grouping_choice_, &QComboBox::currentIndexChanged, this,
          [this](int index) { set_grouping(index == 0 ? Grouping::ByPattern : Grouping::ByBits); });
  connect(log_y_choice_, &QCheckBox::toggled, this, &ParetoChart::set_log_y);

  view()->set_log_y(true);
  view()->set_point_text([this](const QXYSeries* series, int index) -> QString {
    int row = -1;
    if (series == front_) {
      row = front_rows_.value(index, -1);
    } else if (const int group = groups_.indexOf(static_cast<QScatterSeries*>(const_cast<QXYSeries*>(series)));
               group >= 0) {
      row = group_rows_[group].value(index, -1);
    }
    if (row < 0 || row >= this->model()->rowCount()) return {};
    const Measurement& m = this->model()->measurement(row);
    return QString("<b>%1</b><br>%2 %3 %4<br>%5 bits/weight, %6x vs fp16<br>weight_rel_err %7<br>output_rel_err %8")
        .arg(QString::fromStdString(m.tensor).toHtmlEscaped(), config_label(m),
             QString::fromStdString(m.quant.granularity_name()), QString::fromStdString(m.criterion))
        .arg(bits_per_weight(m), 0, 'g', 4)
        .arg(m.compression_vs_fp16, 0, 'g', 4)
        .arg(m.weight_rel_err, 0, 'g', 4)
        .arg(m.output_rel_err, 0, 'g', 4);
  });
  rebuild();
}

void ParetoChart::set_storage_axis(StorageAxis axis) {
  storage_axis_ = axis;
  {
    const QSignalBlocker quiet(storage_choice_);
    storage_choice_->setCurrentIndex(axis == StorageAxis::BitsPerWeight ? 0 : 1);
  }
  rebuild();
}

void ParetoChart::set_error_metric(ErrorMetric metric) {
  metric_ = metric;
  {
    const QSignalBlocker quiet(metric_choice_);
    metric_choice_->setCurrentIndex(metric == ErrorMetric::WeightRelErr ? 0 : 1);
  }
  rebuild();
}

void ParetoChart::set_grouping(Grouping grouping) {
  grouping_ = grouping;
  {
    const QSignalBlocker quiet(grouping_choice_);
    grouping_choice_->setCurrentIndex(grouping == Grouping::ByPattern ? 0 : 1);
  }
  rebuild();
}

void ParetoChart::set_log_y(bool log) {
  log_y_choice_->setChecked(log);
  if (view()->log_y() != log) view()->set_log_y(log);
}

int ParetoChart::point_count() const {
  int count = 0;
  for (const QScatterSeries* series : groups_) count += int(series->count());
  return count;
}

void ParetoChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  groups_.clear();
  group_rows_.clear();
  front_ = nullptr;
  front_rows_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  const std::vector<int> rows = distinct_accuracy_rows(all, effective_rows(all, this->rows()));
  auto storage_of = [this](const Measurement& m) {
    return storage_axis_ == StorageAxis::BitsPerWeight ? bits_per_weight(m) : m.compression_vs_fp16;
  };

  std::map<ConfigLabel, QList<int>> rows_by_group;  // in legend order
  for (int row : rows) rows_by_group[group_of(all[size_t(row)], grouping_)].append(row);

  QList<QAbstractSeries*> all_series;
  for (const auto& [group, group_rows] : rows_by_group) {
    auto* series = new QScatterSeries;
    series->setName(group.text);
    series->setMarkerSize(9);
    series->setColor(ChartView::palette_color(int(groups_.size())));
    series->setBorderColor(Qt::transparent);
    for (int row : group_rows) series->append(storage_of(all[size_t(row)]), error_value(all[size_t(row)], metric_));
    chart_view->chart()->addSeries(series);
    groups_.append(series);
    group_rows_.append(group_rows);
    all_series.append(series);
  }

  // Storage is a cost: fewer bits per weight is better, a higher compression ratio is better.
  std::vector<ParetoPoint> points;
  for (int row : rows) {
    const double storage = storage_of(all[size_t(row)]);
    points.push_back(
        {storage_axis_ == StorageAxis::BitsPerWeight ? storage : -storage, error_value(all[size_t(row)], metric_)});
  }
  if (!points.empty()) {
    front_ = new QLineSeries;
    front_->setName(tr("Pareto front"));
    QPen pen(QColor(40, 40, 40));
    pen.setWidthF(1.6);
    pen.setStyle(Qt::DashLine);
    front_->setPen(pen);
    front_->setPointsVisible(true);
    for (int index : pareto_front(points)) {
      const int row = rows[size_t(index)];
      front_->append(storage_of(all[size_t(row)]), error_value(all[size_t(row)], metric_));
      front_rows_.append(row);
    }
    chart_view->chart()->addSeries(front_);
    all_series.append(front_);
  }

  const QString storage_title = storage_axis_ == StorageAxis::BitsPerWeight
                                    ? tr("storage (bits per weight, incl. metadata and scales)")
                                    : tr("compression vs fp16 (x)");
  chart_view->add_value_axis(Qt::AlignBottom, storage_title, all_series);
  chart_view->add_value_axis(Qt::AlignLeft, error_metric_name(metric_), all_series);
  // Synthetic sources say so, on screen and in an exported image or report alike.
  std::set<std::string> sources;
  for (int row : rows) sources.insert(all[size_t(row)].source);
  QStringList synthetic;
  for (const std::string& source : sources)
    if (const std::string note = synthetic_weights_note(source); !note.empty())
      synthetic.append(QString::fromStdString(note));
  set_note(synthetic.join("\n"));
  QString title = tr("Error vs storage (%1 tensor x configuration points)").arg(rows.size()).toHtmlEscaped();
  if (!synthetic.isEmpty())
    title += "<br><small><i>" + synthetic.join("\n").toHtmlEscaped().replace("\n", "<br>") + "</i></small>";
  chart_view->chart()->setTitle(title);
  chart_view->show_message(rows.empty() ? tr("no measurements in the selection") : QString());
  chart_view->finish_rebuild();
}

}  // namespace nmscope::gui
