#pragma once
// How the charts name and group measurements: the configuration label the study prints ("2:4 int4"), the error
// metric a chart plots, and the one row per (tensor, configuration) that carries its accuracy figures.
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <string>
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope::gui {

enum class ErrorMetric { WeightRelErr, OutputRelErr };

double error_value(const Measurement& measurement, ErrorMetric metric);
// The column name, which is also the axis title ("weight_rel_err").
QString error_metric_name(ErrorMetric metric);

// "2:4 int4", "dense fp16": pattern and bits, as the study's progress line writes them.
QString config_label(const Measurement& measurement);

// A configuration as a legend or a table names it, ordered by its values rather than by its text: densest pattern
// first (patterns keeping as much by group size, 2:4 before 4:8), then widest bits first (dense fp16, dense int8,
// ..., 2:4 int4, 4:8 fp16, ..., 1:4 int4), then the text (what else tells two lines apart).
struct ConfigLabel {
  NMPattern pattern;
  int bits = 16;
  QString text;

  friend bool operator<(const ConfigLabel& a, const ConfigLabel& b);
  friend bool operator==(const ConfigLabel& a, const ConfigLabel& b) {
    return a.pattern == b.pattern && a.bits == b.bits && a.text == b.text;
  }
};
// The row's configuration with config_label(row) as its text (more may be appended to the text).
ConfigLabel config_label_of(const Measurement& measurement);

// Each name shortened to what tells it apart from the others: the dot-separated parts every name shares at the
// start and at the end are dropped ("model.layers.0.mlp.up_proj.weight" -> "mlp.up_proj" beside attention and
// down projections of the same block). A single name, or one that would come out empty, stays whole.
QHash<QString, QString> distinguishing_names(const QStringList& names);

// The model rows `rows` refers to (all rows when empty; out-of-range rows dropped), in model order.
std::vector<int> effective_rows(const std::vector<Measurement>& measurements, const QList<int>& rows);

// One row per (source_hash, tensor, pattern, bits, granularity, symmetric, criterion), in order of first
// appearance: every engine row of a configuration repeats the same accuracy and storage figures, so plotting them
// all would stack copies of one point. The engine "none" row is preferred, else the first row of the group. Rows
// without a matrix (decode steps: a whole model's step, no weight error) carry no accuracy figures and are left out.
std::vector<int> distinct_accuracy_rows(const std::vector<Measurement>& measurements, const std::vector<int>& rows);

}  // namespace nmscope::gui
