#pragma once
// Study > Evaluate model…: the whole-model counterpart of Run. It asks only what a model study needs beyond the Study
// pane (which model directory, the evaluation and calibration token files, the criteria and quantizers); patterns,
// bit widths and the quantization grid come from the Study pane, so both kinds of study describe one design space.
#include <QDialog>
#include <QStringList>

#include "nmscope/model_study.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

namespace nmscope::gui {

class ModelEvaluationDialog final : public QDialog {
  Q_OBJECT

 public:
  // `models`: the open model directories (newest first); `design_space`: a one-line description of the Study pane's
  // patterns, bits and grid, shown so the user sees what will be evaluated.
  ModelEvaluationDialog(const QStringList& models, const QString& design_space, QWidget* parent = nullptr);

  // The choices as a spec whose patterns, bits and quantization are still to be filled from the Study pane. Throws
  // nmscope::Error naming the field when one is missing or invalid.
  ModelStudySpec spec() const;

  // Setters for automation and tests.
  void set_evaluation(const QString& path);
  void set_calibration(const QString& path);
  void set_criteria(const QStringList& names);    // magnitude, wanda, sparsegpt
  void set_quantizers(const QStringList& names);  // rtn, gptq

 private:
  QComboBox* model_;
  QLineEdit* evaluation_;
  QLineEdit* calibration_;
  QCheckBox* magnitude_;
  QCheckBox* wanda_;
  QCheckBox* sparsegpt_;
  QCheckBox* rtn_;
  QCheckBox* gptq_;
};

}  // namespace nmscope::gui
