#pragma once
// The view every nmscope chart is drawn in: the interactions a user expects from a plotting tool (wheel and
// rubber-band zoom, pan, reset, legend toggles, hover read-outs, log axes) and export to PNG, SVG or a report's
// painter. It knows nothing of measurements: the charts build series from the results model and hand them here.
#include <QChartView>
#include <QHash>
#include <QPointer>
#include <QString>
#include <functional>

class QAbstractAxis;
class QAbstractSeries;
class QBarSet;
class QGraphicsSimpleTextItem;
class QLegendMarker;
class QPainter;
class QXYSeries;

namespace nmscope::gui {

class ChartView final : public QChartView {
  Q_OBJECT

 public:
  // A series property: series with equal values share one legend entry, and a click on it toggles them all.
  static constexpr const char* kLegendGroupProperty = "nmscope_legend_group";

  // Text shown when hovering point `index` of an XY series, or category `index` of a bar set ("" shows nothing).
  using PointText = std::function<QString(const QXYSeries* series, int index)>;
  using BarText = std::function<QString(const QBarSet* set, int index)>;

  explicit ChartView(QWidget* parent = nullptr);

  // --- building (called by the charts) -----------------------------------------------------------------------------
  // Removes every series, axis and message, ready for a rebuild.
  void clear();
  // Creates a value axis on `side` (Qt::AlignBottom, AlignLeft or AlignRight) attached to `series`, its range
  // fitted to their data. Bottom follows log_x(), left follows log_y(); the right axis is always linear.
  QAbstractAxis* add_value_axis(Qt::Alignment side, const QString& title, const QList<QAbstractSeries*>& series);
  // Call once the series and axes are in place: hooks legend toggles and hover read-outs, and makes the current
  // axis ranges the ones that reset_zoom() returns to.
  void finish_rebuild();
  // A message centred on the plot area (e.g. why the chart is empty); "" removes it.
  void show_message(const QString& text);
  QString message() const;
  // Colour `index` of a ten-colour qualitative palette (the theme's own five repeat too soon for our legends).
  static QColor palette_color(int index);
  void set_point_text(PointText text) { point_text_ = std::move(text); }
  void set_bar_text(BarText text) { bar_text_ = std::move(text); }

  // --- log axes ----------------------------------------------------------------------------------------------------
  // Rebuilds the bottom (left) value axis as a log or linear axis, keeping its title and series. A category axis is
  // left alone. Non-positive values cannot be placed on a log axis and fall outside it.
  void set_log_x(bool log, double base = 10);
  void set_log_y(bool log, double base = 10);
  bool log_x() const { return log_x_; }
  bool log_y() const { return log_y_; }

  // --- zoom and pan (the mouse and keys call these too) --------------------------------------------------------------
  // factor < 1 zooms in, > 1 out; `anchor` (view coordinates) stays under the cursor. A null anchor: plot centre.
  void zoom_by(double factor, QPointF anchor = {});
  void pan_by(QPointF pixels);  // positive x shows what is right of the view, positive y what is above
  void reset_zoom();

  // --- export ------------------------------------------------------------------------------------------------------
  // Writes the chart as PNG (at least 2x pixel density, so it stays sharp on high-DPI screens and in slides) or SVG,
  // chosen by the file's extension, at the view's size (960x600 when the view was never shown). On failure returns
  // false and, when `error` is given, says why.
  bool save(const QString& path, QString* error = nullptr);
  // Draws the chart into `target` of any painter (PDF reports: stays vector), laid out as on screen (the view's width,
  // the target's aspect ratio) and scaled to fill the target, so text keeps its size relative to the chart.
  void render_to(QPainter& painter, const QRectF& target);

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void apply_palette();
  // Swaps the value axis on `side` for one of the kind the log toggles now ask for.
  void replace_value_axis(Qt::Alignment side);
  void toggle_series_of(QLegendMarker* marker);
  void show_point_text(QXYSeries* series, QPointF point, bool entered);
  void show_bar_text(bool entered, int index, QBarSet* set);
  void place_message();
  QSize export_size() const;
  // Lays the chart out at `size` for an export and returns what to restore afterwards.
  QSizeF lay_out_for_export(QSizeF size);

  bool log_x_ = false;
  bool log_y_ = false;
  double log_x_base_ = 10;
  double log_y_base_ = 10;
  PointText point_text_;
  BarText bar_text_;
  QGraphicsSimpleTextItem* message_ = nullptr;
  // Axis ranges right after a rebuild: what reset_zoom() restores (zoomReset() alone forgets pans and log switches).
  QHash<QAbstractAxis*, QPair<QVariant, QVariant>> home_ranges_;
  QPoint pan_from_;
  bool panning_ = false;
};

}  // namespace nmscope::gui
