#include "results/results_model.hpp"

#include <cmath>

#include "nmscope/measurement_fields.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/units.hpp"

namespace nmscope::gui {

namespace {

template <typename T>
QVariant to_variant(const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return QString::fromStdString(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    return value;
  } else if constexpr (std::is_floating_point_v<T>) {
    return double(value);
  } else if constexpr (std::is_integral_v<T>) {
    return qlonglong(value);
  } else {  // std::optional<...>
    return value ? to_variant(*value) : QVariant();
  }
}

bool ends_with(const std::string& text, const char* suffix) {
  const std::string tail = suffix;
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// Times and byte counts are shown in a unit that fits them ("7.877 ms", "8.250 MiB"); other figures as numbers.
// The column's name says what its raw value is (time_us, storage_bytes); kValueRole and CSV keep that raw value.
QString display_text(const QVariant& value, const std::string& column) {
  if (!value.isValid()) return {};
  if (value.typeId() == QMetaType::Double && ends_with(column, "_us"))
    return QString::fromStdString(format_microseconds(value.toDouble()));
  if (value.typeId() == QMetaType::LongLong && ends_with(column, "_bytes") && value.toLongLong() >= 0)
    return QString::fromStdString(format_bytes(std::uint64_t(value.toLongLong())));
  if (value.typeId() == QMetaType::Double) {
    const double number = value.toDouble();
    if (std::isinf(number)) return number > 0 ? "inf" : "-inf";
    if (number != 0 && (std::fabs(number) < 1e-3 || std::fabs(number) >= 1e6)) return QString::number(number, 'e', 3);
    return QString::number(number, 'g', 6);
  }
  if (value.typeId() == QMetaType::Bool) return value.toBool() ? "yes" : "no";
  return value.toString();
}

}  // namespace

ResultsModel::ResultsModel(QObject* parent) : QAbstractTableModel(parent) {}

void ResultsModel::set_store(std::shared_ptr<ResultsStore> store) {
  store_ = std::move(store);
  reload();
}

void ResultsModel::reload() {
  beginResetModel();
  rows_ = store_ ? store_->all() : std::vector<Measurement>{};
  evaluations_ = store_ ? store_->model_evaluations() : std::vector<ModelEvaluationRecord>{};
  rollups_ = store_ ? store_->model_rollups() : std::vector<ModelRollupRow>{};
  endResetModel();
}

void ResultsModel::append_model_evaluation(const ModelEvaluationRecord& record) {
  evaluations_.push_back(record);
  emit model_evaluations_changed();
}

void ResultsModel::append(const Measurement& measurement) {
  beginInsertRows({}, int(rows_.size()), int(rows_.size()));
  rows_.push_back(measurement);
  endInsertRows();
}

int ResultsModel::column_of(const char* field) {
  const auto& names = measurement_columns();
  for (size_t index = 0; index < names.size(); ++index)
    if (names[index] == field) return int(index);
  return -1;
}

int ResultsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

int ResultsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(measurement_columns().size());
}

QVariant ResultsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(rows_.size())) return {};
  const QVariant value = measurement_value(rows_[size_t(index.row())], index.column());
  if (role == kValueRole) return value;
  const std::string& column = measurement_columns()[size_t(index.column())];
  if (role == Qt::DisplayRole) return display_text(value, column);
  // The tooltip adds the raw figure behind a scaled one ("7.877 ms (7877.155 time_us)").
  if (role == Qt::ToolTipRole) {
    // A row that was not measured says why where the eye falls: on its status ("unavailable: no NVIDIA GPU ...").
    const Measurement& row = rows_[size_t(index.row())];
    if (column == "status" && !row.note.empty()) return QString::fromStdString(row.status + ": " + row.note);
    const QString shown = display_text(value, column);
    const QString raw = display_text(value, {});
    return shown == raw ? shown : QString("%1 (%2 %3)").arg(shown, raw, QString::fromStdString(column));
  }
  if (role == Qt::TextAlignmentRole)
    return value.typeId() == QMetaType::QString ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                                : QVariant(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant ResultsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section + 1;
  const auto& names = measurement_columns();
  return section >= 0 && section < int(names.size()) ? QString::fromStdString(names[size_t(section)]) : QVariant();
}

QVariant measurement_value(const Measurement& measurement, int column) {
  QVariant result;
  int current = 0;
  for_each_field(measurement, [&](const char*, const auto& value) {
    if (current++ == column) result = to_variant(value);
  });
  return result;
}

}  // namespace nmscope::gui
