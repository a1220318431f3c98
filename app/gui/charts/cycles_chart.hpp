#pragma once
// Cycles and PE utilization against systolic array size, from the fpga/systolic-RxC rows: where a bigger array
// stops paying for itself. One pair of lines per configuration: cycles (left, log) and utilization (right, %).
#include <QHash>
#include <QList>

#include "charts/model_chart.hpp"

class QCheckBox;
class QLineSeries;
class QXYSeries;

namespace nmscope::gui {

class CyclesChart final : public ModelChart {
  Q_OBJECT

 public:
  CyclesChart(ResultsModel* model, QWidget* parent = nullptr);

  void set_log_cycles(bool log);  // on by default

  // What is plotted, for tests: one cycles line (and one utilization line, possibly empty) per configuration;
  // x is the number of PEs (rows x cols of the array), y cycles or utilization in percent.
  QList<QLineSeries*> cycles_series() const { return cycles_; }
  QList<QLineSeries*> utilization_series() const { return utilization_; }
  int point_count() const;

 protected:
  void rebuild() override;

 private:
  QCheckBox* log_choice_;
  QList<QLineSeries*> cycles_;
  QList<QLineSeries*> utilization_;
  QHash<const QXYSeries*, QList<int>> rows_of_;  // model row of each point
};

}  // namespace nmscope::gui
