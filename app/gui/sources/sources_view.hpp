#pragma once
// The Sources pane: opened weight sources (files, model directories, synth specs) as a tree of source -> tensors with
// dtype, shape and notes; a filter box (regular expression on tensor names, e.g. "mlp.*proj"); multi-selection.
#include <QWidget>
#include <memory>
#include <vector>

class QLineEdit;
class QStandardItemModel;
class QSortFilterProxyModel;
class QTreeView;

namespace nmscope {
class WeightSource;
}

namespace nmscope::gui {

struct SelectedTensor {
  std::shared_ptr<WeightSource> source;
  std::string name;
};

class SourcesView final : public QWidget {
  Q_OBJECT

 public:
  explicit SourcesView(QWidget* parent = nullptr);

  // Opens a source and adds it to the tree (a source already open is replaced). Throws nmscope::Error when the
  // file cannot be used; the tree is then unchanged.
  std::shared_ptr<WeightSource> open(const QString& location);
  const std::vector<std::shared_ptr<WeightSource>>& sources() const { return sources_; }

  // The selected matrices: selected tensor rows, plus every matrix of a selected source row; empty selection: none.
  std::vector<SelectedTensor> selected_tensors() const;
  // Selects the named tensors (of any source); returns the names that were not found.
  QStringList select_tensors(const QStringList& names);
  // Selects every matrix that passes the filter.
  void select_all_matrices();
  void set_filter(const QString& pattern);
  QTreeView* tree() const { return tree_; }

 signals:
  // Fires when the selected tensors change (also after a source is opened).
  void selection_changed();
  // Fires after a source was opened successfully.
  void source_opened(std::shared_ptr<nmscope::WeightSource> source);

 private:
  void add_to_tree(int source_index);

  std::vector<std::shared_ptr<WeightSource>> sources_;
  QStandardItemModel* model_;
  QSortFilterProxyModel* filter_;
  QTreeView* tree_;
  QLineEdit* filter_edit_;
};

}  // namespace nmscope::gui
