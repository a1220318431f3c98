#pragma once
// The Study pane: which N:M patterns, bit widths, granularity, symmetry, criterion (+ activations), engines (with
// their availability), batch sizes and timing budget to measure. It turns the widgets into a core StudySpec; it
// measures nothing itself.
#include <QWidget>
#include <map>

#include "nmscope/study.hpp"
#include "sources/sources_view.hpp"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QHBoxLayout;
class QLineEdit;
class QListWidget;
class QSettings;
class QSpinBox;

namespace nmscope::gui {

class StudyPanel final : public QWidget {
  Q_OBJECT

 public:
  explicit StudyPanel(QWidget* parent = nullptr);

  // The spec for these tensors; throws nmscope::Error (subject = the option) when a field is invalid.
  StudySpec spec(const std::vector<SelectedTensor>& tensors) const;

  // Granularity, group and symmetry as chosen (bits left at their default): what the sweep follows.
  QuantConfig quantization() const;

  // Setters in the CLI's list syntax (automation, tests, restoring settings). Unknown items throw nmscope::Error.
  void set_patterns(const QString& comma_separated);
  void set_bits(const QString& comma_separated);   // "16,8,4"; 16 = fp16
  void set_engines(const QString& comma_separated);  // names, families, "all" or "none"
  void set_batches(const QString& comma_separated);
  void set_activations(const QString& path);
  void set_fpga_arrays(const QString& comma_separated);  // "16x16,32x32"
  QString fpga_arrays_text() const;
  // The FPGA memory field as the user types it (checked when a study starts: a preset or GB/s).
  void set_fpga_memory_text(const QString& text);
  QString patterns_text() const;
  QString bits_text() const;
  QString engines_text() const;

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 signals:
  // Fires whenever any choice changes.
  void changed();
  // Fires when the activations file changes (empty: none).
  void activations_changed(const QString& path);

 private:
  std::map<QString, QCheckBox*> pattern_boxes_;
  std::map<int, QCheckBox*> bit_boxes_;
  QHBoxLayout* bits_row_ = nullptr;
  QLineEdit* custom_patterns_;
  QComboBox* granularity_;
  QSpinBox* group_size_;
  QComboBox* symmetry_;
  QComboBox* criterion_;
  QLineEdit* activations_;
  QListWidget* engines_;
  QLineEdit* batches_;
  QDoubleSpinBox* timing_seconds_;
  QLineEdit* fpga_arrays_;
  QDoubleSpinBox* fpga_clock_;
  QComboBox* fpga_memory_;  // editable: a preset or a bandwidth in GB/s
};

}  // namespace nmscope::gui
