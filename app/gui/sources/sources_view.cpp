#include "sources/sources_view.hpp"

#include <QHeaderView>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>

#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::gui {

namespace {

constexpr int kSourceIndexRole = Qt::UserRole + 1;   // on every row: index into sources_
constexpr int kTensorNameRole = Qt::UserRole + 2;    // on tensor rows: the tensor's name
constexpr int kIsMatrixRole = Qt::UserRole + 3;

QString shape_text(const std::vector<int64_t>& shape) {
  QStringList dims;
  for (int64_t dim : shape) dims << QString::number(dim);
  return "[" + dims.join(", ") + "]";
}

}  // namespace

SourcesView::SourcesView(QWidget* parent)
    : QWidget(parent),
      model_(new QStandardItemModel(this)),
      filter_(new QSortFilterProxyModel(this)),
      tree_(new QTreeView),
      filter_edit_(new QLineEdit) {
  model_->setHorizontalHeaderLabels({"name", "dtype", "shape", "note"});
  filter_->setSourceModel(model_);
  filter_->setRecursiveFilteringEnabled(true);
  filter_->setFilterKeyColumn(0);
  tree_->setModel(filter_);
  tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  tree_->setSelectionBehavior(QAbstractItemView::SelectRows);
  tree_->setUniformRowHeights(true);
  tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  tree_->header()->setStretchLastSection(true);
  filter_edit_->setPlaceholderText("Filter tensors (regular expression, e.g. mlp.*proj)");
  filter_edit_->setClearButtonEnabled(true);
  connect(filter_edit_, &QLineEdit::textChanged, this, &SourcesView::set_filter);
  connect(tree_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &SourcesView::selection_changed);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(filter_edit_);
  layout->addWidget(tree_);
}

std::shared_ptr<WeightSource> SourcesView::open(const QString& location) {
  std::shared_ptr<WeightSource> source = open_weight_source(location.toStdString());
  bool reopened = false;
  for (auto& existing : sources_) {
    if (existing->location() == source->location()) {
      existing = source;  // reopened: the file may have changed on disk
      reopened = true;
    }
  }
  if (!reopened) sources_.push_back(source);
  model_->removeRows(0, model_->rowCount());
  for (size_t index = 0; index < sources_.size(); ++index) add_to_tree(int(index));
  emit source_opened(source);
  emit selection_changed();
  return source;
}

void SourcesView::add_to_tree(int source_index) {
  const std::shared_ptr<WeightSource>& source = sources_[size_t(source_index)];
  auto* root = new QStandardItem(QString::fromStdString(source->location()));
  root->setData(source_index, kSourceIndexRole);
  root->setEditable(false);
  root->setToolTip(QString::fromStdString(source->location()));
  int matrices = 0;
  for (const TensorInfo& info : source->tensors()) {
    QList<QStandardItem*> row = {new QStandardItem(QString::fromStdString(info.name)),
                                 new QStandardItem(QString::fromStdString(info.stored_type)),
                                 new QStandardItem(shape_text(info.shape)),
                                 new QStandardItem(QString::fromStdString(info.note))};
    for (auto* item : row) {
      item->setEditable(false);
      item->setData(source_index, kSourceIndexRole);
      item->setData(QString::fromStdString(info.name), kTensorNameRole);
      item->setData(info.is_matrix, kIsMatrixRole);
      if (!info.is_matrix) item->setForeground(tree_->palette().brush(QPalette::Disabled, QPalette::Text));
    }
    matrices += info.is_matrix;
    root->appendRow(row);
  }
  auto* summary = new QStandardItem(QString("%1 tensors, %2 matrices").arg(source->tensors().size()).arg(matrices));
  summary->setEditable(false);
  model_->appendRow({root, new QStandardItem(), new QStandardItem(), summary});
  tree_->expand(filter_->mapFromSource(root->index()));
}

std::vector<SelectedTensor> SourcesView::selected_tensors() const {
  std::vector<SelectedTensor> selected;
  auto add = [&](int source_index, const QString& name) {
    for (const auto& existing : selected)
      if (existing.source == sources_[size_t(source_index)] && existing.name == name.toStdString()) return;
    selected.push_back({sources_[size_t(source_index)], name.toStdString()});
  };
  for (const QModelIndex& proxy_index : tree_->selectionModel()->selectedRows(0)) {
    const QModelIndex index = filter_->mapToSource(proxy_index);
    const int source_index = index.data(kSourceIndexRole).toInt();
    if (!index.parent().isValid()) {  // a source row: its matrices that pass the filter
      for (int child = 0; child < model_->rowCount(index); ++child) {
        const QModelIndex tensor = model_->index(child, 0, index);
        if (tensor.data(kIsMatrixRole).toBool() && filter_->mapFromSource(tensor).isValid())
          add(source_index, tensor.data(kTensorNameRole).toString());
      }
    } else if (index.data(kIsMatrixRole).toBool()) {
      add(source_index, index.data(kTensorNameRole).toString());
    }
  }
  return selected;
}

QStringList SourcesView::select_tensors(const QStringList& names) {
  QStringList missing = names;
  QItemSelection selection;
  for (int source = 0; source < model_->rowCount(); ++source) {
    const QModelIndex root = model_->index(source, 0);
    for (int child = 0; child < model_->rowCount(root); ++child) {
      const QModelIndex tensor = model_->index(child, 0, root);
      const QString name = tensor.data(kTensorNameRole).toString();
      if (!names.contains(name)) continue;
      missing.removeAll(name);
      const QModelIndex proxy = filter_->mapFromSource(tensor);
      if (proxy.isValid()) selection.select(proxy, proxy);
    }
  }
  tree_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  return missing;
}

void SourcesView::select_all_matrices() {
  QItemSelection selection;
  for (int source = 0; source < filter_->rowCount(); ++source) {
    const QModelIndex root = filter_->index(source, 0);
    for (int child = 0; child < filter_->rowCount(root); ++child) {
      const QModelIndex tensor = filter_->index(child, 0, root);
      if (tensor.data(kIsMatrixRole).toBool()) selection.select(tensor, tensor);
    }
  }
  tree_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void SourcesView::set_filter(const QString& pattern) {
  if (filter_edit_->text() != pattern) filter_edit_->setText(pattern);
  QRegularExpression expression(pattern, QRegularExpression::CaseInsensitiveOption);
  // An unfinished expression while typing filters nothing out rather than everything.
  filter_->setFilterRegularExpression(expression.isValid() ? expression : QRegularExpression());
  tree_->expandAll();
}

}  // namespace nmscope::gui
