#include "charts/cycles_chart.hpp"

#include <QChart>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QLineSeries>
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
    : ModelChart(model, parent), log_choice_(new QCheckBox(tr("log cycles"), this)) {
  log_choice_->setChecked(true);
  controls()->insertWidget(0, log_choice_);
  connect(log_choice_, &QCheckBox::toggled, this, &CyclesChart::set_log_cycles);
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
  if (view()->log_y() != log) view()->set_log_y(log);
}

int CyclesChart::point_count() const {
  int count = 0;
  for (const QLineSeries* series : cycles_) count += int(series->count());
  return count;
}

void CyclesChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  cycles_.clear();
  utilization_.clear();
  rows_of_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  std::vector<int> fpga_rows;
  std::set<int> batches;
  std::set<std::string> tensors;
  for (int row : effective_rows(all, rows())) {
    const Measurement& m = all[size_t(row)];
    if (m.status != "ok" || !m.cycles || !systolic_array_of(m.engine)) continue;
    fpga_rows.push_back(row);
    batches.insert(m.batch);
    tensors.insert(m.tensor);
  }
  // A line joins design points that differ only in array size; batch and tensor join the name only when they vary.
  auto line_of = [&](const Measurement& m) {
    QString name = config_label(m);
    if (batches.size() > 1) name += QString(", b%1").arg(m.batch);
    if (tensors.size() > 1) name += ", " + QString::fromStdString(m.tensor);
    return name;
  };
  std::map<QString, std::vector<int>> rows_by_line;
  for (int row : fpga_rows) rows_by_line[line_of(all[size_t(row)])].push_back(row);
  QStringList names;
  for (const auto& [name, unused] : rows_by_line) names.append(name);
  std::sort(names.begin(), names.end(), config_label_before);

  QList<QAbstractSeries*> cycle_lines;
  QList<QAbstractSeries*> utilization_lines;
  for (const QString& name : names) {
    std::vector<int>& line_rows = rows_by_line[name];
    std::stable_sort(line_rows.begin(), line_rows.end(), [&](int a, int b) {
      return systolic_array_of(all[size_t(a)].engine)->processing_elements() <
             systolic_array_of(all[size_t(b)].engine)->processing_elements();
    });
    auto* cycles = new QLineSeries;
    cycles->setName(name + tr(" cycles"));
    cycles->setPointsVisible(true);
    auto* utilization = new QLineSeries;
    utilization->setName(name + tr(" utilization"));
    utilization->setPointsVisible(true);
    QList<int> cycle_rows;
    QList<int> utilization_rows;
    for (int row : line_rows) {
      const Measurement& m = all[size_t(row)];
      const double pes = systolic_array_of(m.engine)->processing_elements();
      cycles->append(pes, double(*m.cycles));
      cycle_rows.append(row);
      if (const auto percent = utilization_percent(m.details_json)) {
        utilization->append(pes, *percent);
        utilization_rows.append(row);
      }
    }
    chart_view->chart()->addSeries(cycles);
    chart_view->chart()->addSeries(utilization);
    // The utilization line wears its cycles line's colour, dashed, so a pair reads as one configuration.
    QPen pen = cycles->pen();
    pen.setColor(ChartView::palette_color(int(cycles_.size())));
    cycles->setPen(pen);
    pen.setStyle(Qt::DashLine);
    utilization->setPen(pen);
    cycles_.append(cycles);
    utilization_.append(utilization);
    rows_of_.insert(cycles, cycle_rows);
    rows_of_.insert(utilization, utilization_rows);
    cycle_lines.append(cycles);
    utilization_lines.append(utilization);
  }

  QList<QAbstractSeries*> every_line = cycle_lines + utilization_lines;
  chart_view->add_value_axis(Qt::AlignBottom, tr("systolic array size (PEs = rows x cols)"), every_line);
  chart_view->add_value_axis(Qt::AlignLeft, tr("cycles"), cycle_lines);
  auto* percent_axis =
      static_cast<QValueAxis*>(chart_view->add_value_axis(Qt::AlignRight, tr("utilization (%)"), utilization_lines));
  percent_axis->setRange(0, 100);
  percent_axis->setTickCount(6);
  percent_axis->setGridLineVisible(false);  // one grid (the cycles axis) is enough to read both
  chart_view->chart()->setTitle(tr("FPGA cycles and utilization vs array size"));
  chart_view->show_message(fpga_rows.empty() ? tr("no FPGA measurements in the selection") : QString());
  chart_view->finish_rebuild();
}

}  // namespace nmscope::gui
