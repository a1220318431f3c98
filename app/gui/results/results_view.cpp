#include "results/results_view.hpp"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QSettings>
#include <QShortcut>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

// Provenance columns are kept in the model (and every export) but hidden in the table until asked for.
const QStringList kHiddenByDefault = {"study_id", "created_at", "source", "source_hash", "rows", "cols", "kept_per_group", "group_size",
                                      "quant_group", "details_json", "host", "build"};

}  // namespace

ResultsView::ResultsView(ResultsModel* model, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(new QSortFilterProxyModel(this)), table_(new QTableView),
      filter_(new QLineEdit) {
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(ResultsModel::kValueRole);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
  table_->horizontalHeader()->setSectionsMovable(true);
  connect(table_->horizontalHeader(), &QHeaderView::customContextMenuRequested, this, &ResultsView::show_column_menu);
  for (const QString& column : kHiddenByDefault) set_column_visible(column, false);
  // Fit columns to the data when a whole database is shown; appended rows keep the widths the user chose.
  connect(model_, &QAbstractItemModel::modelReset, this, [this] { fit_columns(); });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          [this] { emit selection_changed(selected_rows()); });
  auto* copy = new QShortcut(QKeySequence::Copy, table_);
  connect(copy, &QShortcut::activated, this, &ResultsView::copy_selection);

  filter_->setPlaceholderText("Filter results (text in any column, e.g. 2:4 or down_proj)");
  filter_->setClearButtonEnabled(true);
  connect(filter_, &QLineEdit::textChanged, this, &ResultsView::set_filter);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(filter_);
  layout->addWidget(table_);
}

void ResultsView::fit_columns() {
  table_->resizeColumnsToContents();
  const int widest = table_->fontMetrics().averageCharWidth() * 48;
  for (int column = 0; column < model_->columnCount(); ++column)
    if (table_->columnWidth(column) > widest) table_->setColumnWidth(column, widest);
}

QList<int> ResultsView::selected_rows() const {
  QList<int> rows;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows()) rows << proxy_->mapToSource(index).row();
  std::sort(rows.begin(), rows.end());
  return rows;
}

QList<int> ResultsView::visible_rows() const {
  QList<int> rows;
  for (int row = 0; row < proxy_->rowCount(); ++row) rows << proxy_->mapToSource(proxy_->index(row, 0)).row();
  std::sort(rows.begin(), rows.end());
  return rows;
}

void ResultsView::set_filter(const QString& text) {
  if (filter_->text() != text) filter_->setText(text);
  proxy_->setFilterFixedString(text);
}

void ResultsView::set_column_visible(const QString& column, bool visible) {
  const int index = ResultsModel::column_of(column.toStdString().c_str());
  if (index >= 0) table_->setColumnHidden(index, !visible);
}

bool ResultsView::is_column_visible(const QString& column) const {
  const int index = ResultsModel::column_of(column.toStdString().c_str());
  return index >= 0 && !table_->isColumnHidden(index);
}

void ResultsView::copy_selection() const {
  QStringList lines;
  QStringList header;
  QList<int> columns;
  for (int visual = 0; visual < model_->columnCount(); ++visual) {
    const int column = table_->horizontalHeader()->logicalIndex(visual);
    if (table_->isColumnHidden(column)) continue;
    columns << column;
    header << model_->headerData(column, Qt::Horizontal).toString();
  }
  lines << header.join('\t');
  for (int row : selected_rows()) {
    QStringList cells;
    for (int column : columns) cells << model_->index(row, column).data().toString().replace('\t', ' ');
    lines << cells.join('\t');
  }
  QApplication::clipboard()->setText(lines.join('\n') + '\n');
}

void ResultsView::show_column_menu(const QPoint& position) {
  QMenu menu;
  for (int column = 0; column < model_->columnCount(); ++column) {
    const QString name = model_->headerData(column, Qt::Horizontal).toString();
    QAction* action = menu.addAction(name);
    action->setCheckable(true);
    action->setChecked(!table_->isColumnHidden(column));
    connect(action, &QAction::toggled, this, [this, name](bool on) { set_column_visible(name, on); });
  }
  menu.exec(table_->horizontalHeader()->mapToGlobal(position));
}

void ResultsView::save(QSettings& settings) const {
  settings.setValue("results/header", table_->horizontalHeader()->saveState());
}

void ResultsView::restore(const QSettings& settings) {
  if (settings.contains("results/header"))
    table_->horizontalHeader()->restoreState(settings.value("results/header").toByteArray());
}

}  // namespace nmscope::gui
