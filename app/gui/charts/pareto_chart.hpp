#pragma once
// Error vs storage: one scatter point per (tensor, configuration) and the Pareto front over all of them, the chart
// that answers "which N:M pattern and bit width buys the most compression for the least error".
#include <QList>

#include "charts/measurement_groups.hpp"
#include "charts/model_chart.hpp"

class QComboBox;
class QCheckBox;
class QLineSeries;
class QScatterSeries;

namespace nmscope::gui {

class ParetoChart final : public ModelChart {
  Q_OBJECT

 public:
  enum class StorageAxis { BitsPerWeight, CompressionVsFp16 };
  enum class Grouping { ByPattern, ByBits };

  ParetoChart(ResultsModel* model, QWidget* parent = nullptr);

  void set_storage_axis(StorageAxis axis);
  void set_error_metric(ErrorMetric metric);
  void set_grouping(Grouping grouping);
  void set_log_y(bool log);  // on by default: errors span decades

  // What is plotted, for tests: the scatter points (one per distinct configuration row) and the front.
  int point_count() const;
  QList<QScatterSeries*> group_series() const { return groups_; }
  QLineSeries* front_series() const { return front_; }
  // The model rows behind the points of group_series()[group], in point order.
  QList<int> rows_of_group(int group) const { return group_rows_.value(group); }

 protected:
  void rebuild() override;

 private:
  StorageAxis storage_axis_ = StorageAxis::BitsPerWeight;
  ErrorMetric metric_ = ErrorMetric::WeightRelErr;
  Grouping grouping_ = Grouping::ByPattern;
  QComboBox* storage_choice_;
  QComboBox* metric_choice_;
  QComboBox* grouping_choice_;
  QCheckBox* log_y_choice_;
  QList<QScatterSeries*> groups_;
  QList<QList<int>> group_rows_;
  QLineSeries* front_ = nullptr;
  QList<int> front_rows_;
};

}  // namespace nmscope::gui
