#include "charts/series_styles.hpp"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QPen>
#include <QSet>
#include <QXYSeries>
#include <array>

#include "charts/chart_view.hpp"

namespace nmscope::gui {

namespace {

struct Dash {
  Qt::PenStyle style;
  const char* name;
};
// Five dash patterns tell apart in print; past them they repeat (the note still names every line's).
constexpr std::array<Dash, 5> kDashes = {{{Qt::SolidLine, "solid"},
                                          {Qt::DashLine, "dashed"},
                                          {Qt::DotLine, "dotted"},
                                          {Qt::DashDotLine, "dash-dot"},
                                          {Qt::DashDotDotLine, "dash-dot-dot"}}};

int index_of(QStringList& keys, const QString& key) {
  int index = int(keys.indexOf(key));
  if (index < 0) {
    keys.append(key);
    index = int(keys.size()) - 1;
  }
  return index;
}

}  // namespace

void SeriesStyles::apply(QXYSeries* series, const QString& colour_key, const QString& style_key) {
  const int colour = index_of(colour_keys_, colour_key);
  const int style = index_of(style_keys_, style_key);
  QPen pen = series->pen();
  pen.setColor(ChartView::palette_color(colour));
  pen.setStyle(kDashes[size_t(style) % kDashes.size()].style);
  // Past five dash patterns the lines get thicker, so no two styles look alike.
  pen.setWidthF(2 + 1.5 * double(size_t(style) / kDashes.size()));
  series->setPen(pen);
  series->setColor(pen.color());
  series->setName(style_key.isEmpty() ? colour_key : colour_key + " · " + style_key);
  series->setProperty(ChartView::kLegendGroupProperty, colour_key);
  series_.append(series);
  colour_of_.insert(series, colour_key);
  style_of_.insert(series, style_key);
}

void SeriesStyles::group_legend(QChart* chart) const {
  QSet<QString> shown;
  for (QXYSeries* series : series_) {
    const QString colour_key = colour_of_.value(series);
    const bool first = !shown.contains(colour_key);
    shown.insert(colour_key);
    for (QLegendMarker* marker : chart->legend()->markers(series)) {
      marker->setVisible(first);
      // The entry stands for every line of its colour: a solid swatch, named by the colour alone.
      if (first) {
        marker->setLabel(colour_key);
        QPen pen = marker->pen();
        pen.setStyle(Qt::SolidLine);
        marker->setPen(pen);
      }
    }
  }
}

QString SeriesStyles::dash_legend(const QString& what) const {
  if (style_keys_.size() < 2) return {};
  QStringList entries;
  for (int index = 0; index < int(style_keys_.size()); ++index)
    entries.append(QString("%1%2 = %3")
                       .arg(index >= int(kDashes.size()) ? "thick " : "", kDashes[size_t(index) % kDashes.size()].name,
                            style_keys_[index]));
  return QString("line style per %1: %2").arg(what, entries.join(", "));
}

void SeriesStyles::clear() {
  colour_keys_.clear();
  style_keys_.clear();
  series_.clear();
  colour_of_.clear();
  style_of_.clear();
}

}  // namespace nmscope::gui
