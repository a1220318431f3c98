#pragma once
// What every chart shares: it draws the rows of the results model that the user selected (all rows when none),
// redraws when the model changes, and shows a row of controls above a ChartView and a note below it. The charts
// derive from it and only turn measurements into series in rebuild().
#include <QList>
#include <QWidget>

class QHBoxLayout;
class QLabel;
class QPainter;
class QTimer;

namespace nmscope::gui {

class ChartView;
class ResultsModel;

class ModelChart : public QWidget {
  Q_OBJECT

 public:
  ModelChart(ResultsModel* model, QWidget* parent);

  // Restricts the chart to these model rows (the selection in the results table); empty shows every row.
  void set_rows(const QList<int>& model_rows);
  const QList<int>& rows() const { return rows_; }

  ChartView* view() const { return view_; }
  // The remark under the chart (e.g. what was left out and why); "" when none.
  QString note() const;

  // Forwarded to the view: PNG or SVG by extension; false and the reason on failure.
  bool save(const QString& path, QString* error = nullptr);
  void render_to(QPainter& painter, const QRectF& target);

 protected:
  // Rebuilds the series from model() and rows(). Derived constructors call it once they are complete.
  virtual void rebuild() = 0;
  ResultsModel* model() const { return model_; }
  QHBoxLayout* controls() const { return controls_; }
  void set_note(const QString& text);

 private:
  // Rows arrive one by one while a study runs; a zero-delay timer folds a burst into one rebuild.
  void schedule_rebuild();

  ResultsModel* model_;
  QList<int> rows_;
  ChartView* view_;
  QHBoxLayout* controls_;
  QLabel* note_;
  QTimer* rebuild_timer_;
};

}  // namespace nmscope::gui
