#include "charts/layer_error_chart.hpp"

#include <QBarCategoryAxis>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QSignalBlocker>
#include <algorithm>
#include <functional>
#include <map>

#include "charts/chart_view.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

// Beyond this many tensors the names cannot be printed legibly; the axis counts tensors and hover names them.
constexpr int kMaxNamedTensors = 40;

// Tensor names without what they all share ("model.layers." ... ".weight"), so the axis shows what differs.
QStringList short_names(const QStringList& names) {
  if (names.size() < 2) return names;
  int prefix = 0;
  int suffix = 0;
  const QString& first = names.front();
  auto shared = [&](auto char_at, int limit) {
    int length = 0;
    for (; length < limit; ++length)
      for (const QString& name : names)
        if (length >= name.size() || char_at(name, length) != char_at(first, length)) return length;
    return length;
  };
  prefix = shared([](const QString& s, int i) { return s[i]; }, int(first.size()));
  suffix = shared([](const QString& s, int i) { return s[s.size() - 1 - i]; }, int(first.size()) - prefix);
  // Cut at a '.' so "layers.1" and "layers.10" do not lose their common digit.
  prefix = int(first.left(prefix).lastIndexOf('.')) + 1;
  const int dot = int(first.right(suffix).indexOf('.'));
  suffix = dot < 0 ? 0 : suffix - dot;
  QStringList result;
  for (const QString& name : names) {
    const QString middle = name.mid(prefix, name.size() - prefix - suffix);
    result.append(middle.isEmpty() ? name : middle);
  }
  return result;
}

}  // namespace

LayerErrorChart::LayerErrorChart(ResultsModel* model, QWidget* parent)
    : ModelChart(model, parent),
      metric_choice_(new QComboBox(this)),
      log_y_choice_(new QCheckBox(tr("log error"), this)) {
  metric_choice_->addItem("weight_rel_err");
  metric_choice_->addItem("output_rel_err");
  log_y_choice_->setChecked(true);
  controls()->insertWidget(0, new QLabel(tr("Error:"), this));
  controls()->insertWidget(1, metric_choice_);
  controls()->insertWidget(2, log_y_choice_);
  connect(metric_choice_, &QComboBox::currentIndexChanged, this,
          [this](int index) { set_error_metric(index == 0 ? ErrorMetric::WeightRelErr : ErrorMetric::OutputRelErr); });
  connect(log_y_choice_, &QCheckBox::toggled, this, &LayerErrorChart::set_log_y);
  view()->set_log_y(true);
  view()->set_point_text([this](const QXYSeries* series, int index) -> QString {
    const int row = rows_of_.value(series).value(index, -1);
    if (row < 0 || row >= this->model()->rowCount()) return {};
    const Measurement& m = this->model()->measurement(row);
    return QString("<b>%1</b><br>%2 %3 %4<br>%5 %6")
        .arg(QString::fromStdString(m.tensor).toHtmlEscaped(), config_label(m),
             QString::fromStdString(m.quant.granularity_name()), QString::fromStdString(m.criterion),
             error_metric_name(metric_))
        .arg(error_value(m, metric_), 0, 'g', 4);
  });
  rebuild();
}

void LayerErrorChart::set_error_metric(ErrorMetric metric) {
  metric_ = metric;
  {
    const QSignalBlocker quiet(metric_choice_);
    metric_choice_->setCurrentIndex(metric == ErrorMetric::WeightRelErr ? 0 : 1);
  }
  rebuild();
}

void LayerErrorChart::set_log_y(bool log) {
  log_y_choice_->setChecked(log);
  if (view()->log_y() != log) view()->set_log_y(log);
}

int LayerErrorChart::point_count() const {
  int count = 0;
  for (const QLineSeries* line : lines_) count += int(line->count());
  return count;
}

void LayerErrorChart::rebuild() {
  ChartView* chart_view = view();
  chart_view->clear();
  tensors_.clear();
  lines_.clear();
  rows_of_.clear();

  const std::vector<Measurement>& all = model()->measurements();
  const std::vector<int> rows = distinct_accuracy_rows(all, effective_rows(all, this->rows()));
  // Configurations beyond pattern and bits (granularity, symmetry, criterion) name the line only when they vary.
  // fp16 has no quantization grid, so its granularity ("none") and symmetry are no variation.
  QStringList granularities, symmetries, criteria;
  auto note = [](QStringList& seen, const QString& value) {
    if (!seen.contains(value)) seen.append(value);
  };
  for (int row : rows) {
    const Measurement& m = all[size_t(row)];
    if (m.quant.bits != 16) note(granularities, QString::fromStdString(m.quant.granularity_name()));
    if (m.quant.bits != 16) note(symmetries, m.quant.symmetric ? "sym" : "asym");
    note(criteria, QString::fromStdString(m.criterion));
    note(tensors_, QString::fromStdString(m.tensor));
  }
  auto line_of = [&](const Measurement& m) {
    ConfigLabel line = config_label_of(m);
    if (granularities.size() > 1 && m.quant.bits != 16)
      line.text += ' ' + QString::fromStdString(m.quant.granularity_name());
    if (symmetries.size() > 1 && m.quant.bits != 16) line.text += m.quant.symmetric ? " sym" : " asym";
    if (criteria.size() > 1) line.text += ' ' + QString::fromStdString(m.criterion);
    return line;
  };
  std::map<ConfigLabel, QList<int>> rows_by_line;  // in legend order
  for (int row : rows) rows_by_line[line_of(all[size_t(row)])].append(row);
  std::vector<ConfigLabel> names;
  for (const auto& [name, unused] : rows_by_line) names.push_back(name);

  // Colour tells the pattern and the dash the bit width, so twelve lines stay tellable apart.
  QStringList patterns;
  QList<int> bit_widths;
  for (const ConfigLabel& name : names) {
    const Measurement& m = all[size_t(rows_by_line[name].front())];
    if (!patterns.contains(QString::fromStdString(m.pattern.to_string())))
      patterns.append(QString::fromStdString(m.pattern.to_string()));
    if (!bit_widths.contains(m.quant.bits)) bit_widths.append(m.quant.bits);
  }
  std::sort(bit_widths.begin(), bit_widths.end(), std::greater<>());
  const Qt::PenStyle dashes[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine, Qt::DashDotDotLine};

  QList<QAbstractSeries*> every_line;
  for (const ConfigLabel& name : names) {
    QList<int>& line_rows = rows_by_line[name];
    // Model order along X, whatever order the rows were stored in.
    std::stable_sort(line_rows.begin(), line_rows.end(), [&](int a, int b) {
      return tensors_.indexOf(QString::fromStdString(all[size_t(a)].tensor)) <
             tensors_.indexOf(QString::fromStdString(all[size_t(b)].tensor));
    });
    auto* line = new QLineSeries;
    line->setName(name.text);
    line->setPointsVisible(true);
    for (int row : line_rows)
      line->append(tensors_.indexOf(QString::fromStdString(all[size_t(row)].tensor)),
                   error_value(all[size_t(row)], metric_));
    chart_view->chart()->addSeries(line);
    const Measurement& first = all[size_t(line_rows.front())];
    QPen pen = line->pen();
    pen.setColor(ChartView::palette_color(int(patterns.indexOf(QString::fromStdString(first.pattern.to_string())))));
    pen.setStyle(dashes[std::min<qsizetype>(bit_widths.indexOf(first.quant.bits), 4)]);
    pen.setWidthF(1.8);
    line->setPen(pen);
    lines_.append(line);
    rows_of_.insert(line, line_rows);
    every_line.append(line);
  }

  if (tensors_.size() <= kMaxNamedTensors) {
    auto* axis = new QBarCategoryAxis;
    axis->append(tensors_.isEmpty() ? QStringList{QString(" ")} : short_names(tensors_));
    axis->setTitleText(tr("tensor (model order)"));
    axis->setTruncateLabels(false);  // Qt elides rotated labels to "…" although they fit
    // Upright labels would overlap and Qt would drop some; vertical ones fit one per category.
    if (tensors_.size() > 4) axis->setLabelsAngle(-90);
    chart_view->chart()->addAxis(axis, Qt::AlignBottom);
    for (QAbstractSeries* line : every_line) line->attachAxis(axis);
  } else {
    chart_view->add_value_axis(Qt::AlignBottom, tr("tensor index (model order; hover for names)"), every_line);
  }
  chart_view->add_value_axis(Qt::AlignLeft, error_metric_name(metric_), every_line);
  chart_view->chart()->setTitle(tr("%1 per tensor").arg(error_metric_name(metric_)));
  chart_view->show_message(rows.empty() ? tr("no measurements in the selection") : QString());
  chart_view->finish_rebuild();
}

}  // namespace nmscope::gui
