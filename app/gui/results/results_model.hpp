#pragma once
// The results database as a Qt table model: one row per measurement, one column per Measurement field (the names of
// nmscope::measurement_columns()). The table, the charts and the reports all read this one model, so what they show
// is exactly what the database holds. Whole-model evaluations (one row per configuration of a model study, beside
// their per-layer measurement rows) are held here too, for the model-accuracy chart.
#include <QAbstractTableModel>
#include <memory>
#include <vector>

#include "nmscope/measurement.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/model_study.hpp"

namespace nmscope {
class ResultsStore;
}

namespace nmscope::gui {

class ResultsModel final : public QAbstractTableModel {
  Q_OBJECT

 public:
  // Raw value for sorting and charts (numbers as double/qlonglong, missing values as an invalid QVariant).
  static constexpr int kValueRole = Qt::UserRole + 1;

  explicit ResultsModel(QObject* parent = nullptr);

  // Shows every row of `store` (null: empty). Emits modelReset.
  void set_store(std::shared_ptr<ResultsStore> store);
  std::shared_ptr<ResultsStore> store() const { return store_; }
  // Re-reads the database (rows written by another process appear).
  void reload();
  // Adds a row that a running study just stored (cheaper than a reload). Emits rowsInserted.
  void append(const Measurement& measurement);

  const Measurement& measurement(int row) const { return rows_.at(size_t(row)); }
  const std::vector<Measurement>& measurements() const { return rows_; }
  // The model_evaluations rows of the database, in insertion order.
  const std::vector<ModelEvaluationRecord>& model_evaluations() const { return evaluations_; }
  // The model_rollups rows (nmscope-cli model: per configuration, engine, batch and role), in insertion order.
  const std::vector<ModelRollupRow>& model_rollups() const { return rollups_; }
  // Adds a model evaluation a running model study just stored. Emits model_evaluations_changed.
  void append_model_evaluation(const ModelEvaluationRecord& record);
  // Column index of a field name ("weight_rel_err"), or -1.
  static int column_of(const char* field);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 signals:
  // The model evaluations changed without a reset (a reset reloads them too).
  void model_evaluations_changed();

 private:
  std::shared_ptr<ResultsStore> store_;
  std::vector<Measurement> rows_;
  std::vector<ModelEvaluationRecord> evaluations_;
  std::vector<ModelRollupRow> rollups_;
};

// The value of one field of a measurement, by column index (numbers as numbers, optionals empty when absent).
QVariant measurement_value(const Measurement& measurement, int column);

}  // namespace nmscope::gui
