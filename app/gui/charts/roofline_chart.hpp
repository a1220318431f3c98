#pragma once
// The FPGA rows on a roofline (issue 22): achieved multiply-accumulates per cycle against operational intensity
// (MACs per weight byte through the memory port), log-log, under the roofs of each design point in the selection:
// the array's compute roof (rows x cols MACs per cycle) and its memory roof (bytes per cycle x intensity). A point
// under the sloped roof is memory-bound; one under the flat roof, compute-bound.
#include <QHash>
#include <QList>

#include "charts/model_chart.hpp"
#include "charts/series_styles.hpp"

class QLineSeries;
class QScatterSeries;
class QXYSeries;

namespace nmscope::gui {

class RooflineChart final : public ModelChart {
  Q_OBJECT

 public:
  RooflineChart(ResultsModel* model, QWidget* parent = nullptr);

  // What is plotted, for tests: one scatter series per configuration (x MACs per byte, y MACs per cycle) and one
  // line per design point's roofs (array, memory, clock).
  QList<QScatterSeries*> point_series() const { return points_; }
  QList<QLineSeries*> roof_series() const { return roofs_; }

 protected:
  void rebuild() override;

 private:
  QList<QScatterSeries*> points_;
  QList<QLineSeries*> roofs_;
  QHash<const QXYSeries*, QList<int>> rows_of_;
  SeriesStyles styles_;
};

}  // namespace nmscope::gui
