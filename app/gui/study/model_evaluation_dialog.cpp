#include "study/model_evaluation_dialog.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

#include "nmscope/error.hpp"

namespace nmscope::gui {

namespace {

QWidget* file_row(QLineEdit* edit, const QString& caption, QWidget* parent) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* browse = new QPushButton("…", row);
  browse->setToolTip(caption);
  QObject::connect(browse, &QPushButton::clicked, row, [edit, caption, row] {
    const QString path =
        QFileDialog::getOpenFileName(row, caption, {}, "Token ids (*.npy);;Text (*.txt);;All files (*)");
    if (!path.isEmpty()) edit->setText(path);
  });
  layout->addWidget(edit, 1);
  layout->addWidget(browse);
  return row;
}

QWidget* check_row(std::initializer_list<QCheckBox*> boxes, QWidget* parent) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  for (QCheckBox* box : boxes) layout->addWidget(box);
  layout->addStretch(1);
  return row;
}

}  // namespace

ModelEvaluationDialog::ModelEvaluationDialog(const QStringList& models, const QString& design_space, QWidget* parent)
    : QDialog(parent),
      model_(new QComboBox(this)),
      evaluation_(new QLineEdit(this)),
      calibration_(new QLineEdit(this)),
      magnitude_(new QCheckBox("magnitude", this)),
      wanda_(new QCheckBox("wanda", this)),
      sparsegpt_(new QCheckBox("sparsegpt", this)),
      rtn_(new QCheckBox("rtn", this)),
      gptq_(new QCheckBox("gptq", this)) {
  setWindowTitle("Evaluate model");
  model_->addItems(models);
  evaluation_->setPlaceholderText("token ids .npy [sequences, tokens], or a text file (windows of 128 tokens)");
  calibration_->setPlaceholderText("built-in set (16 × 64 tokens)");
  magnitude_->setChecked(true);
  wanda_->setChecked(true);
  sparsegpt_->setChecked(true);
  rtn_->setChecked(true);
  magnitude_->setToolTip("Keep the largest |w| of each group");
  wanda_->setToolTip("|w| × ‖x‖ from the model's own calibration forward");
  sparsegpt_->setToolTip("Second-order masks with weight updates (SparseGPT)");
  rtn_->setToolTip("Round to nearest after pruning");
  gptq_->setToolTip("Column-by-column rounding with second-order error feedback (GPTQ)");

  auto* form = new QFormLayout;
  form->addRow("Model", model_);
  form->addRow("Evaluation tokens", file_row(evaluation_, "Evaluation token ids", this));
  form->addRow("Calibration tokens", file_row(calibration_, "Calibration token ids", this));
  form->addRow("Criteria", check_row({magnitude_, wanda_, sparsegpt_}, this));
  form->addRow("Quantizers", check_row({rtn_, gptq_}, this));
  auto* space = new QLabel("From the Study pane: " + design_space, this);
  space->setWordWrap(true);
  space->setForegroundRole(QPalette::PlaceholderText);
  form->addRow(space);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText("Evaluate");
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  form->addRow(buttons);
  setLayout(form);
  resize(560, sizeHint().height());
}

ModelStudySpec ModelEvaluationDialog::spec() const {
  ModelStudySpec spec;
  spec.model = model_->currentText().toStdString();
  if (spec.model.empty())
    throw Error("Evaluate model", "open a model directory (config.json + safetensors) or a llama.cpp .gguf first");
  // Anything but a .npy is text, tokenized by the model's own tokenizer into windows of spec.window tokens.
  auto is_text = [](const std::string& path) { return path.size() < 4 || path.substr(path.size() - 4) != ".npy"; };
  spec.evaluation = evaluation_->text().trimmed().toStdString();
  if (spec.evaluation.empty())
    throw Error("Evaluation tokens", "choose a token ids .npy or a text file to evaluate on");
  spec.evaluation_is_text = is_text(spec.evaluation);
  spec.calibration = calibration_->text().trimmed().toStdString();
  spec.calibration_is_text = !spec.calibration.empty() && is_text(spec.calibration);
  spec.criteria.clear();
  if (magnitude_->isChecked()) spec.criteria.push_back(ModelCriterion::Magnitude);
  if (wanda_->isChecked()) spec.criteria.push_back(ModelCriterion::Wanda);
  if (sparsegpt_->isChecked()) spec.criteria.push_back(ModelCriterion::SparseGPT);
  if (spec.criteria.empty()) throw Error("Criteria", "choose at least one of magnitude, wanda, sparsegpt");
  spec.quantizers.clear();
  if (rtn_->isChecked()) spec.quantizers.push_back(Quantizer::RoundToNearest);
  if (gptq_->isChecked()) spec.quantizers.push_back(Quantizer::Gptq);
  if (spec.quantizers.empty()) throw Error("Quantizers", "choose rtn, gptq or both");
  return spec;
}

void ModelEvaluationDialog::set_evaluation(const QString& path) { evaluation_->setText(path); }
void ModelEvaluationDialog::set_calibration(const QString& path) { calibration_->setText(path); }

void ModelEvaluationDialog::set_criteria(const QStringList& names) {
  for (const QString& name : names) parse_model_criterion(name.trimmed().toStdString());  // throws on an unknown one
  magnitude_->setChecked(names.contains("magnitude"));
  wanda_->setChecked(names.contains("wanda"));
  sparsegpt_->setChecked(names.contains("sparsegpt"));
}

void ModelEvaluationDialog::set_quantizers(const QStringList& names) {
  for (const QString& name : names) parse_quantizer(name.trimmed().toStdString());
  rtn_->setChecked(names.contains("rtn"));
  gptq_->setChecked(names.contains("gptq"));
}

}  // namespace nmscope::gui
