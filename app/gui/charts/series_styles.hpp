#pragma once
// Many lines in one plot stay readable when each visual property encodes one thing: a colour per configuration and
// a dash pattern per layer (or engine). The legend then needs one entry per colour, and one line saying what the
// dashes mean, instead of a repeated entry per line whose names run out of room.
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

class QChart;
class QXYSeries;

namespace nmscope::gui {

class SeriesStyles final {
 public:
  // Gives `series` the colour of `colour_key` and the dash of `style_key` (each in order of first appearance) and
  // names it "colour_key" or, when the style varies, "colour_key · style_key".
  void apply(QXYSeries* series, const QString& colour_key, const QString& style_key);
  // Call after ChartView::finish_rebuild(): keeps one legend entry per colour, labelled by its colour key.
  void group_legend(QChart* chart) const;
  // "line style per layer: solid = q_proj, dashed = up_proj"; "" when every line has the same style.
  QString dash_legend(const QString& what) const;
  int colours() const { return int(colour_keys_.size()); }
  int styles() const { return int(style_keys_.size()); }
  void clear();

 private:
  QStringList colour_keys_;
  QStringList style_keys_;
  QList<QXYSeries*> series_;
  QHash<const QXYSeries*, QString> colour_of_;
  QHash<const QXYSeries*, QString> style_of_;
};

}  // namespace nmscope::gui
