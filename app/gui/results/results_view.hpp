#pragma once
// The Results pane: the results model as a sortable, filterable table with a column chooser and row copying. Its
// selection (in model rows) drives the charts and the reports.
#include <QList>
#include <QWidget>

class QLineEdit;
class QSettings;
class QSortFilterProxyModel;
class QTableView;

namespace nmscope::gui {

class ResultsModel;

class ResultsView final : public QWidget {
  Q_OBJECT

 public:
  explicit ResultsView(ResultsModel* model, QWidget* parent = nullptr);

  // Selected rows as rows of the results model (not of the sorted/filtered view), ascending.
  QList<int> selected_rows() const;
  // Rows that pass the filter, as rows of the results model.
  QList<int> visible_rows() const;
  void set_filter(const QString& text);
  void set_column_visible(const QString& column, bool visible);
  bool is_column_visible(const QString& column) const;
  // Copies the selected rows (visible columns, with a header line) to the clipboard as tab-separated text.
  void copy_selection() const;
  QTableView* table() const { return table_; }
  // Sizes the columns to their contents (bounded), e.g. after a study finished.
  void fit_columns();

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 signals:
  // Fires when the selection changes (an empty list means nothing is selected).
  void selection_changed(const QList<int>& model_rows);

 private:
  void show_column_menu(const QPoint& position);

  ResultsModel* model_;
  QSortFilterProxyModel* proxy_;
  QTableView* table_;
  QLineEdit* filter_;
};

}  // namespace nmscope::gui
