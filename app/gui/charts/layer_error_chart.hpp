#pragma once
// Error per layer across a model: which tensors suffer most from a configuration. X is the tensor in model order
// (the order the study met them), one line per configuration.
#include <QHash>
#include <QList>
#include <QStringList>

#include "charts/measurement_groups.hpp"
#include "charts/model_chart.hpp"

class QCheckBox;
class QComboBox;
class QLineSeries;
class QXYSeries;

namespace nmscope::gui {

class LayerErrorChart final : public ModelChart {
  Q_OBJECT

 public:
  LayerErrorChart(ResultsModel* model, QWidget* parent = nullptr);

  void set_error_metric(ErrorMetric metric);
  void set_log_y(bool log);  // on by default

  // What is plotted, for tests: the tensors along X (full names, model order) and one line per configuration whose
  // point x is the tensor's index in tensors().
  QStringList tensors() const { return tensors_; }
  QList<QLineSeries*> config_series() const { return lines_; }
  int point_count() const;

 protected:
  void rebuild() override;

 private:
  ErrorMetric metric_ = ErrorMetric::WeightRelErr;
  QComboBox* metric_choice_;
  QCheckBox* log_y_choice_;
  QStringList tensors_;
  QList<QLineSeries*> lines_;
  QHash<const QXYSeries*, QList<int>> rows_of_;
};

}  // namespace nmscope::gui
