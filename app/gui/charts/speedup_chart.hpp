#pragma once
// Grouped bars: the speedup of each engine variant over its family's baseline (speedup_table), one bar set per
// variant, one category per (configuration, batch). Variants appear as their rows land in the database. The note
// under the chart says which variants have no bar and why, and why a bar is below 1x.
#include <QAbstractSeries>
#include <QHash>
#include <QPair>
#include <QStringList>

#include "charts/model_chart.hpp"

class QBarSet;

namespace nmscope::gui {

class SpeedupChart final : public ModelChart {
  Q_OBJECT

 public:
  SpeedupChart(ResultsModel* model, QWidget* parent = nullptr);

  // What is plotted, for tests. Categories read "2:4 int4, b16"; a bar is the geometric mean of the speedups of
  // that variant over the tensors (and studies) selected, NaN where the variant has no bar in that category.
  QStringList engines() const { return engines_; }
  QStringList categories() const { return categories_; }
  double speedup(const QString& engine, const QString& category) const;
  int bar_count() const { return int(cells_.size()); }
  // The baselines the bars are relative to, as named in the title and axis.
  QStringList baselines() const { return baselines_; }
  // Why a bar is below 1x ("" when it is not, or there is no bar): shown in its read-out and in the note.
  QString slower_because(const QString& engine, const QString& category) const;
  // The whisker drawn over a bar timed round by round with its baseline: p10 and p90 of the per-round speedup
  // (NaN, NaN without one: timed alone, or counted in cycles).
  QPair<double, double> spread(const QString& engine, const QString& category) const;
  int whisker_count() const { return whiskers_; }

 protected:
  void rebuild() override;

 private:
  // The p10-p90 whiskers over the bars (categories bottom-up, as the axis lists them); the series added.
  QList<QAbstractSeries*> add_whiskers(const QStringList& bottom_up, int bar_sets);

  struct Cell {
    double speedup = 0;  // geometric mean
    int samples = 0;
    double lowest = 0, highest = 0;
    // Samples timed round by round with their baseline: geometric means of their p10 and p90 ratios (the whisker).
    int spread_samples = 0;
    double spread_low = 0, spread_high = 0;
    int rounds = 0;                            // of the last such sample, for the read-out
    double time_us = 0, baseline_time_us = 0;  // of the last sample, for the read-out
    qint64 cycles = 0, baseline_cycles = 0;    // the same for a cycle-counted (fpga) variant
    QString baseline;                          // what the bar is relative to
    QString slower_because;                    // why the last sample below 1x was slower
  };

  QStringList engines_;
  QStringList categories_;
  QStringList baselines_;
  QHash<QString, Cell> cells_;
  int whiskers_ = 0;  // key: engine + '\n' + category
};

}  // namespace nmscope::gui
