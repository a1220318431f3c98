#include "charts/model_accuracy_chart.hpp"

#include <QChart>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "charts/chart_view.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

using Metric = ModelAccuracyChart::Metric;

bool is_dense_point(const ModelEvaluationRecord& record) { return record.criterion == "none"; }

double metric_value(const ModelEvaluationRecord& record, Metric metric) {
  switch (metric) {
    case Metric::Cosine:
      return record.mean_cosine;
    case Metric::Perplexity:
      return record.perplexity;
    case Metric::MeanKl:
      return record.mean_kl;
    case Metric::Top1:
      return record.top1_agreement;
  }
  return std::nan("");
}

QString metric_title(Metric metric) {
  switch (metric) {
    case Metric::Cosine:
      return QObject::tr("embedding cosine to the dense model");
    case Metric::Perplexity:
      return QObject::tr("perplexity");
    case Metric::MeanKl:
      return QObject::tr("mean KL divergence to the dense model (nats)");
    case Metric::Top1:
      return QObject::tr("top-1 agreement with the dense model");
  }
  return {};
}

std::vector<Metric> family_metrics(const std::string& family) {
  if (family == "encoder") return {Metric::Cosine};
  return {Metric::Perplexity, Metric::MeanKl, Metric::Top1};
}

QString configuration_label(const ModelEvaluationRecord& record) {
  QString label = QString::fromStdString(record.pattern.to_string() + " " + record.quant.bits_name());
  if (!record.quant.is_fp16()) label += " " + QString::fromStdString(record.quant.granularity_name());
  if (!record.quant.is_fp16() && !record.quant.symmetric) label += " asym";
  return label;
}

QString method_label(const ModelEvaluationRecord& record) {
  return QString::fromStdString(record.criterion) + " + " + QString::fromStdString(record.quantizer);
}

// The configuration a point stands for: a later study of the same configuration replaces an earlier one.
std::string configuration_key(const ModelEvaluationRecord& record) {
  return record.pattern.to_string() + "|" + std::to_string(record.quant.bits) + "|" + record.quant.granularity_name() +
         "|" + (record.quant.symmetric ? "s" : "a") + "|" + record.criterion + "|" + record.quantizer;
}

}  // namespace

ModelAccuracyChart::ModelAccuracyChart(ResultsModel* model, QWidget* parent)
    : ModelChart(model, parent), model_choice_(new QComboBox(this)), metric_choice_(new QComboBox(this)) {
  model_choice_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  model_choice_->setMinimumContentsLength(24);
  model_choice_->setToolTip(tr("Model directory of the evaluations shown"));
  int at = 0;
  controls()->insertWidget(at++, new QLabel(tr("Model:"), this));
  controls()->insertWidget(at++, model_choice_);
  controls()->insertWidget(at++, new QLabel(tr("Metric:"), this));
  controls()->insertWidget(at++, metric_choice_);
  connect(model_choice_, &QComboBox::currentIndexChanged, this, [this] {
    refill_choosers();
    rebuild();
  });
  connect(metric_choice_, &QComboBox::currentIndexChanged, this, [this] {
    if (metric_choice_->currentIndex() < 0) return;
    metric_ = Metric(metric_choice_->currentData().toInt());
    rebuild();
  });
  connect(model, &ResultsModel::model_evaluations_changed, this, [this] { rebuild(); });
  view()->set_point_text([this](const QXYSeries* series, int index) -> QString {
    const auto records = records_of_.value(series);
    if (index < 0 || index >= records.size()) return {};
    const ModelEvaluationRecord& record = *records[index];
    const double value = metric_value(record, metric_);
    QString text = QString("<b>%1</b><br>%2<br>%3 bits/weight (%4x smaller than fp16)<br>%5: %6")
                       .arg(configuration_label(record), is_dense_point(record) ? tr("uncompressed") : method_label(record))
                       .arg(record.bits_per_weight, 0, 'f', 3)
                       .arg(record.bits_per_weight > 0 ? 16.0 / record.bits_per_weight : 0, 0, 'f', 2)
                       .arg(metric_title(metric_), QString::number(value, 'g', 6));
    if (!std::isnan(record.dense_perplexity) && metric_ == Metric::Perplexity)
      text += tr("<br>dense fp32 perplexity %1").arg(record.dense_perplexity, 0, 'g', 6);
    if (!record.note.empty()) text += "<br>" + QString::fromStdString(record.note).toHtmlEscaped();
    return text;
  });
  rebuild();
}

bool ModelAccuracyChart::set_model(const QString& model) {
  const int index = model_choice_->findText(model);
  if (index < 0) return false;
  model_choice_->setCurrentIndex(index);
  return true;
}

QString ModelAccuracyChart::current_model() const { return model_choice_->currentText(); }

void ModelAccuracyChart::set_metric(Metric metric) {
  const int index = metric_choice_->findData(int(metric));
  if (index >= 0) metric_choice_->setCurrentIndex(index);
}

// The model list follows the database (newest model first, the user's choice kept); the metric list follows the
// chosen model's family.
void ModelAccuracyChart::refill_choosers() {
  const std::vector<ModelEvaluationRecord>& all = model()->model_evaluations();
  QStringList models;
  for (auto record = all.rbegin(); record != all.rend(); ++record)
    if (const QString name = QString::fromStdString(record->model); !models.contains(name)) models.append(name);
  {
    const QSignalBlocker blocker(model_choice_);
    const QString chosen = model_choice_->currentText();
    QStringList current;
    for (int index = 0; index < model_choice_->count(); ++index) current.append(model_choice_->itemText(index));
    if (current != models) {
      model_choice_->clear();
      model_choice_->addItems(models);
      model_choice_->setCurrentIndex(std::max(0, int(models.indexOf(chosen))));
    }
  }
  std::string family = "encoder";
  for (const ModelEvaluationRecord& record : all)
    if (QString::fromStdString(record.model) == model_choice_->currentText()) family = record.family;
  const std::vector<Metric> metrics = family_metrics(family);
  const QSignalBlocker blocker(metric_choice_);
  metric_choice_->clear();
  for (const Metric metric : metrics) metric_choice_->addItem(metric_title(metric), int(metric));
  const auto kept = std::find(metrics.begin(), metrics.end(), metric_);
  metric_ = kept != metrics.end() ? *kept : metrics.front();
  metric_choice_->setCurrentIndex(metric_choice_->findData(int(metric_)));
}

// The chosen model's evaluations, narrowed to the studies of the selected result rows when the selection names any,
// one record per configuration (the latest).
std::vector<const ModelEvaluationRecord*> ModelAccuracyChart::shown_records() const {
  const std::vector<ModelEvaluationRecord>& all = model()->model_evaluations();
  std::set<std::string> selected_studies;
  const std::vector<Measurement>& measurements = model()->measurements();
  for (const int row : rows())
    if (row >= 0 && size_t(row) < measurements.size()) selected_studies.insert(measurements[size_t(row)].study_id);
  bool selection_names_a_study = false;
  for (const ModelEvaluationRecord& record : all) selection_names_a_study |= selected_studies.count(record.study_id) > 0;

  std::map<std::string, const ModelEvaluationRecord*> latest;
  for (const ModelEvaluationRecord& record : all) {
    if (QString::fromStdString(record.model) != model_choice_->currentText()) continue;
    if (selection_names_a_study && !selected_studies.count(record.study_id)) continue;
    latest[configuration_key(record)] = &record;
  }
  std::vector<const ModelEvaluationRecord*> records;
  for (const auto& [key, record] : latest) records.push_back(record);
  return records;
}

void ModelAccuracyChart::rebuild() {
  refill_choosers();
  ChartView* chart_view = view();
  chart_view->clear();
  lines_.clear();
  dense_ = nullptr;
  records_of_.clear();

  std::map<QString, std::vector<const ModelEvaluationRecord*>> by_method;
  std::vector<const ModelEvaluationRecord*> dense_points;
  int skipped = 0;
  for (const ModelEvaluationRecord* record : shown_records()) {
    if (std::isnan(metric_value(*record, metric_)) || record->bits_per_weight <= 0) {
      ++skipped;
      continue;
    }
    (is_dense_point(*record) ? dense_points : by_method[method_label(*record)]).push_back(record);
  }

  QList<QAbstractSeries*> every_series;
  for (auto& [method, records] : by_method) {
    std::sort(records.begin(), records.end(), [](const auto* a, const auto* b) {
      return a->bits_per_weight < b->bits_per_weight;
    });
    auto* line = new QLineSeries;
    line->setName(method);
    line->setPointsVisible(true);
    QList<const ModelEvaluationRecord*> point_records;
    for (const ModelEvaluationRecord* record : records) {
      line->append(record->bits_per_weight, metric_value(*record, metric_));
      point_records.append(record);
    }
    chart_view->chart()->addSeries(line);
    QPen pen = line->pen();
    pen.setColor(ChartView::palette_color(int(lines_.size())));
    pen.setWidthF(2.0);
    line->setPen(pen);
    records_of_.insert(line, point_records);
    lines_.append(line);
    every_series.append(line);
  }
  if (!dense_points.empty()) {
    dense_ = new QScatterSeries;
    dense_->setName(tr("dense fp16 (uncompressed)"));
    dense_->setMarkerShape(QScatterSeries::MarkerShapeStar);
    dense_->setMarkerSize(16);
    dense_->setColor(Qt::black);
    QList<const ModelEvaluationRecord*> point_records;
    for (const ModelEvaluationRecord* record : dense_points) {
      dense_->append(record->bits_per_weight, metric_value(*record, metric_));
      point_records.append(record);
    }
    chart_view->chart()->addSeries(dense_);
    records_of_.insert(dense_, point_records);
    every_series.append(dense_);
  }
  chart_view->add_value_axis(Qt::AlignBottom, tr("bits per weight of the compressed linear layers"), every_series);
  chart_view->add_value_axis(Qt::AlignLeft, metric_title(metric_), every_series);
  chart_view->chart()->setTitle(model_choice_->count() ? tr("Whole-model accuracy vs storage: %1").arg(current_model())
                                                        : tr("Whole-model accuracy vs storage"));
  chart_view->show_message(model()->model_evaluations().empty()
                               ? tr("no model evaluations in this database: run `nmscope-cli model-eval` or "
                                    "Study > Evaluate model")
                               : QString());
  QString note;
  if (skipped > 0) note = tr("%1 evaluation(s) without this metric are not shown.").arg(skipped);
  set_note(note);
  chart_view->finish_rebuild();
}

}  // namespace nmscope::gui
