#pragma once
// Whole-model accuracy against storage, from the model_evaluations rows (model-eval / Study > Evaluate model): does the
// compressed model still work, and what does each criterion buy per bit? One line per criterion + quantizer
// (magnitude, wanda, sparsegpt; rtn or gptq), one point per configuration, and the uncompressed fp16 model as its
// own marker. Encoders plot the embedding cosine to the dense model; decoders perplexity, mean KL or top-1
// agreement. Selecting rows of a model study in the results table narrows the chart to that study.
#include <QHash>
#include <QList>
#include <vector>

#include "charts/model_chart.hpp"
#include "nmscope/model_study.hpp"

class QComboBox;
class QLineSeries;
class QScatterSeries;
class QXYSeries;

namespace nmscope::gui {

class ModelAccuracyChart final : public ModelChart {
  Q_OBJECT

 public:
  enum class Metric { Cosine, Perplexity, MeanKl, Top1 };

  ModelAccuracyChart(ResultsModel* model, QWidget* parent = nullptr);

  // The model whose evaluations are shown (as stored: the directory named to model-eval); false when none has that
  // name.
  bool set_model(const QString& model);
  QString current_model() const;
  // Falls back to the family's first metric when the model has no such figure.
  void set_metric(Metric metric);
  Metric metric() const { return metric_; }

  // What is plotted, for tests: one line per criterion + quantizer ("sparsegpt + gptq"), x = bits per weight of the
  // compressed linear layers, y = the metric; and the dense fp16 point.
  QList<QLineSeries*> criterion_series() const { return lines_; }
  QScatterSeries* dense_series() const { return dense_; }

 protected:
  void rebuild() override;

 private:
  void refill_choosers();
  std::vector<const ModelEvaluationRecord*> shown_records() const;

  QComboBox* model_choice_;
  QComboBox* metric_choice_;
  Metric metric_ = Metric::Cosine;
  QList<QLineSeries*> lines_;
  QScatterSeries* dense_ = nullptr;
  QHash<const QXYSeries*, QList<const ModelEvaluationRecord*>> records_of_;  // record of each point
};

}  // namespace nmscope::gui
