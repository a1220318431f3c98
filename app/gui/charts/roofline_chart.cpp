#include "charts/roofline_chart.hpp"

#include <QChart>
#include <QLineSeries>
#include <QRegularExpression>
#include <QScatterSeries>
#include <algorithm>
#include <cmath>
#include <map>

#include "charts/chart_view.hpp"
#include "charts/fpga_figures.hpp"
#include "charts/measurement_groups.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

RooflineChart::RooflineChart(ResultsModel* model, QWidget* parent) : ModelChart(model, parent) {
  view()->set_log_x(true);
  view()->set_log_y(true);
  view()->set_point_text([this](const QXYSeries* series, int index) -> QString {
    const int row = rows_of_.value(series).value(index, -1);
    if (row < 0 || row >= this->model()->rowCount()) return {};
    const Measurement& m = this->model()->measurement(row);
    const auto point = roofline_point(m.engine, m.details_json, m.cycles ? *m.cycles : 0);
    if (!point) return {};
    return QString("<b>%1</b><br>%2, batch %3<br>%4<br>%5 MAC/byte, %6 MAC/cycle of %7<br>%8-bound, %9 stall cycles")
        .arg(QString::fromStdString(m.engine), config_label(m))
        .arg(m.batch)
        .arg(QString::fromStdString(m.tensor).toHtmlEscaped())
        .arg(point->macs_per_byte, 0, 'g', 3)
        .arg(point->macs_per_cycle, 0, 'g', 3)
        .arg(point->compute_roof, 0, 'g', 4)
        .arg(point->bound)
        .arg(point->stall_cycles);
  });
  rebuild();
}

void RooflineChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  points_.clear();
  roofs_.clear();
  rows_of_.clear();
  styles_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  std::map<ConfigLabel, std::vector<std::pair<int, RooflinePoint>>> by_config;
  // One pair of roofs per design point: array (its compute roof) and memory (its slope).
  std::map<std::pair<double, double>, QString> roofs;
  double low = INFINITY, high = 0;
  int fpga_rows = 0;
  for (int row : effective_rows(all, rows())) {
    const Measurement& m = all[size_t(row)];
    if (m.status != "ok" || !m.cycles || !systolic_array_of(m.engine)) continue;
    ++fpga_rows;
    const auto point = roofline_point(m.engine, m.details_json, *m.cycles);
    if (!point) continue;
    by_config[config_label_of(m)].push_back({row, *point});
    const auto array = systolic_array_of(m.engine);
    // Memories the port caps alike share one roof, named after all of them.
    const std::pair key{point->compute_roof, point->bytes_per_cycle};
    const QString name = QString("%1x%2, %3").arg(array->rows).arg(array->cols);
    if (!roofs.count(key))
      roofs[key] = name.arg(point->memory);
    else if (!roofs[key].split(QRegularExpression("[,/] ")).contains(point->memory))
      roofs[key] += " / " + point->memory;
    low = std::min(low, point->macs_per_byte);
    high = std::max(high, point->macs_per_byte);
  }

  QList<QAbstractSeries*> shown;
  for (const auto& [config, points] : by_config) {
    auto* series = new QScatterSeries;
    series->setMarkerSize(9);
    QList<int> series_rows;
    for (const auto& [row, point] : points) {
      series->append(point.macs_per_byte, point.macs_per_cycle);
      series_rows.append(row);
    }
    chart_view->chart()->addSeries(series);
    styles_.apply(series, config.text, QString());
    points_.append(series);
    rows_of_.insert(series, series_rows);
    shown.append(series);
  }
  if (!points_.isEmpty()) {
    // The roofs span the plotted intensities with a decade of margin: min(compute roof, bytes per cycle x I).
    const double from = low / 10, to = high * 10;
    for (const auto& [key, label] : roofs) {
      const auto [compute, bandwidth] = key;
      auto* roof = new QLineSeries;
      roof->setName(tr("roof: %1").arg(label));
      const double ridge = compute / bandwidth;
      roof->append(from, std::min(compute, bandwidth * from));
      if (ridge > from && ridge < to) roof->append(ridge, compute);
      roof->append(to, std::min(compute, bandwidth * to));
      QPen pen = roof->pen();
      pen.setStyle(Qt::DashLine);
      pen.setWidthF(1.5);
      roof->setPen(pen);
      chart_view->chart()->addSeries(roof);
      roofs_.append(roof);
      shown.append(roof);
    }
  }
  chart_view->add_value_axis(Qt::AlignBottom, tr("operational intensity (MACs per weight byte through the port)"),
                             shown);
  chart_view->add_value_axis(Qt::AlignLeft, tr("achieved MACs per cycle"), shown);
  chart_view->chart()->setTitle(tr("FPGA roofline: the array's compute roof and its memory's"));
  QString message;
  if (fpga_rows == 0)
    message = tr("no FPGA measurements in the selection");
  else if (points_.isEmpty())
    message = tr("the FPGA rows predate the memory port: rerun them for a roofline");
  chart_view->show_message(message);
  chart_view->finish_rebuild();
  styles_.group_legend(chart_view->chart());
  set_note(points_.isEmpty() ? QString()
                             : tr("Dashed: the roofs of each array and memory (flat: rows x cols MACs per cycle; "
                                  "sloped: the memory's bytes per cycle, capped by the port's 64). Points below both "
                                  "at small batches: the array's own weight load binds (a window of at least "
                                  "max(rows, cols) + 1 cycles per fold: rows x cols x batch / that MACs per cycle)."));
}

}  // namespace nmscope::gui
