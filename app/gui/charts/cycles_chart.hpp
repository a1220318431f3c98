#pragma once
// Cycles or PE utilization against systolic array size, from the fpga/systolic-RxC rows: where a bigger array
// stops paying for itself. One metric at a time (the user picks it); a colour per configuration and a dash pattern
// per layer (and batch), so a study of many layers keeps a legend of one entry per configuration.
#include <QHash>
#include <QList>

#include "charts/model_chart.hpp"
#include "charts/series_styles.hpp"

class QCheckBox;
class QComboBox;
class QLineSeries;
class QXYSeries;

namespace nmscope::gui {

class CyclesChart final : public ModelChart {
  Q_OBJECT

 public:
  enum class Metric { Cycles, Utilization };

  CyclesChart(ResultsModel* model, QWidget* parent = nullptr);

  void set_log_cycles(bool log);  // on by default
  void set_metric(Metric metric);  // cycles by default
  Metric metric() const { return metric_; }
  // The batch plotted when the rows hold several (the smallest by default); 0 plots every batch.
  void set_batch(int batch);
  int batch() const { return batch_; }

  // What is plotted, for tests: one line per configuration and layer (and batch) of the metric shown, the other
  // list empty; x is the number of PEs (rows x cols of the array), y cycles or utilization in percent.
  QList<QLineSeries*> cycles_series() const { return cycles_; }
  QList<QLineSeries*> utilization_series() const { return utilization_; }
  int point_count() const;

 protected:
  void rebuild() override;

 private:
  QCheckBox* log_choice_;
  QComboBox* metric_choice_;
  QComboBox* batch_choice_;
  Metric metric_ = Metric::Cycles;
  int batch_ = -1;  // -1: not chosen yet (the smallest), 0: all
  QList<QLineSeries*> cycles_;
  QList<QLineSeries*> utilization_;
  QHash<const QXYSeries*, QList<int>> rows_of_;  // model row of each point
  SeriesStyles styles_;
};

}  // namespace nmscope::gui
