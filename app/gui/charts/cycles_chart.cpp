#include "charts/cycles_chart.hpp"

#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QSignalBlocker>
#include <QValueAxis>
#include <algorithm>
#include <map>
#include <set>

#include "charts/chart_view.hpp"
#include "charts/fpga_figures.hpp"
#include "charts/measurement_groups.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

CyclesChart::CyclesChart(ResultsModel* model, QWidget* parent)
    : ModelChart(model, parent),
      log_choice_(new QCheckBox(tr("log cycles"), this)),
      metric_choice_(new QComboBox(this)),
      batch_choice_(new QComboBox(this)) {
  metric_choice_->addItem(tr("cycles"), int(Metric::Cycles));
  metric_choice_->addItem(tr("PE utilization (%)"), int(Metric::Utilization));
  metric_choice_->setToolTip(tr("What the chart plots against the array size"));
  log_choice_->setChecked(true);
  controls()->insertWidget(0, new QLabel(tr("plot"), this));
  controls()->insertWidget(1, metric_choice_);
  controls()->insertWidget(2, log_choice_);
  batch_choice_->setToolTip(tr("Batch of the plotted runs: one batch keeps the plot to a line per configuration and layer"));
  controls()->insertWidget(3, batch_choice_);
  connect(batch_choice_, &QComboBox::currentIndexChanged, this,
          [this] { set_batch(batch_choice_->currentData().toInt()); });
  connect(log_choice_, &QCheckBox::toggled, this, &CyclesChart::set_log_cycles);
  connect(metric_choice_, &QComboBox::currentIndexChanged, this,
          [this] { set_metric(Metric(metric_choice_->currentData().toInt())); });
  // Array sizes double in each dimension from one design point to the next.
  view()->set_log_x(true, 2);
  view()->set_log_y(true);
  view()->set_point_text([this](const QXYSeries* series, int index) -> QString {
    const int row = rows_of_.value(series).value(index, -1);
    if (row < 0 || row >= this->model()->rowCount()) return {};
    const Measurement& m = this->model()->measurement(row);
    const auto array = systolic_array_of(m.engine);
    const auto utilization = utilization_percent(m.details_json);
    return QString("<b>%1</b><br>%2, batch %3<br>%4x%5 array<br>%6 cycles<br>utilization %7")
        .arg(QString::fromStdString(m.tensor).toHtmlEscaped(), config_label(m))
        .arg(m.batch)
        .arg(array ? array->rows : 0)
        .arg(array ? array->cols : 0)
        .arg(m.cycles ? qlonglong(*m.cycles) : 0)
        .arg(utilization ? QString::number(*utilization, 'f', 1) + " %" : QString("—"));
  });
  rebuild();
}

void CyclesChart::set_log_cycles(bool log) {
  log_choice_->setChecked(log);
  if (metric_ == Metric::Cycles && view()->log_y() != log) view()->set_log_y(log);
}

void CyclesChart::set_metric(Metric metric) {
  const QSignalBlocker blocker(metric_choice_);
  metric_choice_->setCurrentIndex(metric_choice_->findData(int(metric)));
  if (metric_ == metric) return;
  metric_ = metric;
  // Utilization is a share of 0-100 %: a log axis would only stretch its top.
  log_choice_->setEnabled(metric == Metric::Cycles);
  view()->set_log_y(metric == Metric::Cycles && log_choice_->isChecked());
  rebuild();
}

void CyclesChart::set_batch(int batch) {
  if (batch_ == batch) return;
  batch_ = batch;
  rebuild();
}

int CyclesChart::point_count() const {
  int count = 0;
  for (const QLineSeries* series : metric_ == Metric::Cycles ? cycles_ : utilization_) count += int(series->count());
  return count;
}

void CyclesChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  cycles_.clear();
  utilization_.clear();
  rows_of_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  std::set<int> all_batches;
  for (int row : effective_rows(all, rows())) {
    const Measurement& m = all[size_t(row)];
    if (m.status == "ok" && m.cycles && systolic_array_of(m.engine)) all_batches.insert(m.batch);
  }
  // Several batches: one at a time by default (the smallest), or all of them as the user chooses.
  if (batch_ > 0 && !all_batches.count(batch_)) batch_ = -1;
  if (batch_ < 0 && !all_batches.empty()) batch_ = *all_batches.begin();
  {
    const QSignalBlocker blocker(batch_choice_);
    batch_choice_->clear();
    batch_choice_->addItem(tr("all batches"), 0);
    for (int batch : all_batches) batch_choice_->addItem(tr("batch %1").arg(batch), batch);
    batch_choice_->setCurrentIndex(std::max(0, batch_choice_->findData(batch_)));
    batch_choice_->setVisible(all_batches.size() > 1);
  }
  std::vector<int> fpga_rows;
  std::set<int> batches;
  std::set<std::string> tensors;
  for (int row : effective_rows(all, rows())) {
    const Measurement& m = all[size_t(row)];
    if (m.status != "ok" || !m.cycles || !systolic_array_of(m.engine)) continue;
    if (batch_ > 0 && m.batch != batch_) continue;
    fpga_rows.push_back(row);
    batches.insert(m.batch);
    tensors.insert(m.tensor);
  }
  QStringList tensor_names;
  for (const std::string& tensor : tensors) tensor_names.append(QString::fromStdString(tensor));
  const QHash<QString, QString> short_tensor = distinguishing_names(tensor_names);
  // A line joins design points that differ only in array size. Its colour is the configuration; layer and batch
  // (each only when it varies) make its dash pattern.
  auto style_of = [&](const Measurement& m) {
    QStringList parts;
    if (tensors.size() > 1) parts.append(short_tensor.value(QString::fromStdString(m.tensor)));
    if (batches.size() > 1) parts.append(QString("b%1").arg(m.batch));
    return parts.join(", ");
  };
  // Ordered by configuration (ConfigLabel), then style.
  std::map<std::pair<ConfigLabel, QString>, std::vector<int>> rows_by_line;
  for (int row : fpga_rows)
    rows_by_line[{config_label_of(all[size_t(row)]), style_of(all[size_t(row)])}].push_back(row);
  std::vector<std::pair<ConfigLabel, QString>> lines;
  for (const auto& [line, unused] : rows_by_line) lines.push_back(line);

  const bool plot_cycles = metric_ == Metric::Cycles;
  styles_.clear();
  QList<QAbstractSeries*> shown;
  for (const auto& line : lines) {
    std::vector<int>& line_rows = rows_by_line[line];
    std::stable_sort(line_rows.begin(), line_rows.end(), [&](int a, int b) {
      return systolic_array_of(all[size_t(a)].engine)->processing_elements() <
             systolic_array_of(all[size_t(b)].engine)->processing_elements();
    });
    auto* series = new QLineSeries;
    series->setPointsVisible(true);
    QList<int> series_rows;
    for (int row : line_rows) {
      const Measurement& m = all[size_t(row)];
      const double pes = systolic_array_of(m.engine)->processing_elements();
      if (plot_cycles) {
        series->append(pes, double(*m.cycles));
        series_rows.append(row);
      } else if (const auto percent = utilization_percent(m.details_json)) {
        series->append(pes, *percent);
        series_rows.append(row);
      }
    }
    chart_view->chart()->addSeries(series);
    styles_.apply(series, line.first.text, line.second);
    (plot_cycles ? cycles_ : utilization_).append(series);
    rows_of_.insert(series, series_rows);
    shown.append(series);
  }

  chart_view->add_value_axis(Qt::AlignBottom, tr("systolic array size (PEs = rows x cols)"), shown);
  auto* value_axis =
      chart_view->add_value_axis(Qt::AlignLeft, plot_cycles ? tr("cycles") : tr("PE utilization (%)"), shown);
  if (!plot_cycles) {
    if (auto* percent_axis = qobject_cast<QValueAxis*>(value_axis)) {
      percent_axis->setRange(0, 100);
      percent_axis->setTickCount(6);
    }
  }
  QString title = plot_cycles ? tr("FPGA cycles vs array size") : tr("FPGA PE utilization vs array size");
  if (batches.size() == 1 && all_batches.size() > 1) title += tr(" (batch %1)").arg(*batches.begin());
  const QString dashes = styles_.dash_legend(batches.size() > 1 && tensors.size() > 1 ? tr("layer, batch")
                                             : batches.size() > 1                     ? tr("batch")
                                                                                      : tr("layer"));
  // The dashes' meaning goes into the title too, so an exported image or a report page still says it.
  chart_view->chart()->setTitle(dashes.isEmpty()
                                    ? title.toHtmlEscaped()
                                    : title.toHtmlEscaped() + "<br><small>" + dashes.toHtmlEscaped() + "</small>");
  chart_view->show_message(fpga_rows.empty() ? tr("no FPGA measurements in the selection") : QString());
  chart_view->finish_rebuild();
  styles_.group_legend(chart_view->chart());
  set_note(dashes);
}

}  // namespace nmscope::gui
