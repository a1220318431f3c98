#include "masks/mask_view.hpp"

#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "masks/keep_pattern_histogram_view.hpp"
#include "masks/mask_heatmap.hpp"
#include "masks/model_masks.hpp"
#include "masks/row_sparsity_plot.hpp"
#include "nmscope/error.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::gui {

namespace {

constexpr int kLayerNameRole = Qt::UserRole + 1;

QLabel* title_label(const QString& text) {
  auto* label = new QLabel(text);
  QFont font = label->font();
  font.setBold(true);
  label->setFont(font);
  return label;
}

QString shape_text(int64_t rows, int64_t cols) { return QString("%1 × %2").arg(rows).arg(cols); }

}  // namespace

MaskView::MaskView(QWidget* parent)
    : QWidget(parent),
      layer_chooser_(new QComboBox),
      pattern_chooser_(new QComboBox),
      criterion_chooser_(new QComboBox),
      bits_chooser_(new QComboBox),
      status_(new QLabel),
      agreement_(new QLabel),
      magnitude_title_(title_label("Magnitude")),
      compared_title_(title_label(compared_criterion_title(ComparedCriterion::Wanda))),
      shading_caption_(new QLabel(
          "Zoomed out, each block is coloured by the share of its weight magnitude the mask keeps, Σ|w| kept / Σ|w| "
          "(1 = nothing lost), on one colour range for both maps: darker blocks lose more. Zoomed in (wheel), kept "
          "weights are shaded by |w| and pruned ones grey.")),
      magnitude_map_(new MaskHeatmap),
      compared_map_(new MaskHeatmap),
      row_plot_(new RowSparsityPlot),
      histogram_(new KeepPatternHistogramView) {
  layer_chooser_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  layer_chooser_->setMinimumContentsLength(28);
  layer_chooser_->setToolTip("Matrix tensors of the open weight source");
  pattern_chooser_->setEditable(true);
  pattern_chooser_->setInsertPolicy(QComboBox::NoInsert);
  pattern_chooser_->addItems({"2:4", "1:4", "4:8", "2:8", "1:8"});
  pattern_chooser_->setCurrentText("2:4");
  pattern_chooser_->setToolTip("N:M: keep N of every M consecutive weights along K; type any N:M with M <= 32");
  pattern_chooser_->setMinimumContentsLength(6);
  criterion_chooser_->addItem("wanda", int(ComparedCriterion::Wanda));
  criterion_chooser_->addItem("sparsegpt", int(ComparedCriterion::SparseGPT));
  criterion_chooser_->setToolTip(
      "The criterion compared with magnitude. For a model directory its masks are those a whole-model compression "
      "chooses on the model's own calibration forward (as model-eval); otherwise they need an activations file.");
  for (const int bits : {4, 3, 2, 8, 16}) bits_chooser_->addItem(bits == 16 ? "fp16" : QString("int%1").arg(bits), bits);
  bits_chooser_->setToolTip("SparseGPT chooses masks jointly with quantization: the bit width it quantizes to");
  bits_chooser_->setEnabled(false);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  shading_caption_->setWordWrap(true);
  shading_caption_->setForegroundRole(QPalette::PlaceholderText);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Layer"));
  controls->addWidget(layer_chooser_, 3);
  controls->addSpacing(12);
  controls->addWidget(new QLabel("Pattern"));
  controls->addWidget(pattern_chooser_);
  controls->addSpacing(12);
  controls->addWidget(new QLabel("Compare with"));
  controls->addWidget(criterion_chooser_);
  controls->addWidget(bits_chooser_);
  controls->addSpacing(12);
  controls->addWidget(status_, 4);

  auto* maps = new QWidget;
  auto* grid = new QGridLayout(maps);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(magnitude_title_, 0, 0);
  grid->addWidget(compared_title_, 0, 1);
  grid->addWidget(title_label("Kept share / row"), 0, 2);
  grid->addWidget(magnitude_map_, 1, 0);
  grid->addWidget(compared_map_, 1, 1);
  grid->addWidget(row_plot_, 1, 2);
  grid->addWidget(shading_caption_, 2, 0, 1, 3);
  grid->addWidget(agreement_, 3, 0, 1, 3);
  grid->setColumnStretch(0, 1);
  grid->setColumnStretch(1, 1);
  grid->setRowStretch(1, 1);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(maps);
  splitter->addWidget(histogram_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  splitter->setChildrenCollapsible(false);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(splitter, 1);

  connect(layer_chooser_, &QComboBox::currentIndexChanged, this, [this] { request_analysis(); });
  connect(pattern_chooser_, &QComboBox::activated, this, [this] { apply_pattern_text(); });
  connect(pattern_chooser_->lineEdit(), &QLineEdit::returnPressed, this, [this] { apply_pattern_text(); });
  connect(criterion_chooser_, &QComboBox::currentIndexChanged, this, [this] {
    set_compared_criterion(ComparedCriterion(criterion_chooser_->currentData().toInt()));
  });
  connect(bits_chooser_, &QComboBox::currentIndexChanged, this, [this] { set_bits(bits_chooser_->currentData().toInt()); });
  // The two masks are of one layer: zooming or panning either moves both, and the row plot follows.
  connect(magnitude_map_, &MaskHeatmap::viewport_changed, compared_map_, &MaskHeatmap::set_viewport);
  connect(compared_map_, &MaskHeatmap::viewport_changed, magnitude_map_, &MaskHeatmap::set_viewport);
  connect(magnitude_map_, &MaskHeatmap::viewport_changed, row_plot_, &RowSparsityPlot::set_viewport);
  // Wanda and sparsegpt keep less |w| than magnitude by design (they weigh |w| by the input); one range makes that
  // visible.
  magnitude_map_->link_colour_range(compared_map_);
  connect(&watcher_, &QFutureWatcher<MaskAnalysis>::finished, this, &MaskView::on_analysis_finished);

  set_source(nullptr);
}

MaskView::~MaskView() = default;

void MaskView::set_source(std::shared_ptr<WeightSource> source) {
  source_ = std::move(source);
  model_masks_.reset();
  model_masks_note_.clear();
  if (source_) {
    try {
      std::string why;
      model_masks_ = ModelMasks::open(source_->location(), &why);
      model_masks_note_ = QString::fromStdString(why);
    } catch (const Error& error) {
      // The tensors still open as tensors; only the whole-model masks are out of reach.
      model_masks_note_ = QString::fromStdString(error.what());
    }
  }
  ++wanted_generation_;
  error_.clear();
  analysis_ = {};
  {
    const QSignalBlocker blocker(layer_chooser_);
    layer_chooser_->clear();
    if (source_)
      for (const TensorInfo& tensor : source_->tensors()) {
        if (!tensor.is_matrix) continue;
        const QString name = QString::fromStdString(tensor.name);
        layer_chooser_->addItem(QString("%1  (%2)").arg(name, shape_text(tensor.rows(), tensor.cols())), name);
        layer_chooser_->setItemData(layer_chooser_->count() - 1, name, kLayerNameRole);
      }
  }
  const QString empty_reason = !source_                       ? "Open a weight source to inspect its masks."
                               : layer_chooser_->count() == 0 ? "This source holds no matrix tensors."
                                                              : "Loading…";
  magnitude_map_->clear(empty_reason);
  compared_map_->clear(empty_reason);
  row_plot_->clear();
  histogram_->clear();
  agreement_->clear();
  if (can_analyse())
    request_analysis();
  else
    update_status();
}

void MaskView::set_activations(std::shared_ptr<const MatrixF> activations) {
  activations_ = std::move(activations);
  request_analysis();
}

void MaskView::set_compared_criterion(ComparedCriterion criterion) {
  bits_chooser_->setEnabled(criterion == ComparedCriterion::SparseGPT);
  if (const int index = criterion_chooser_->findData(int(criterion)); index != criterion_chooser_->currentIndex()) {
    criterion_chooser_->setCurrentIndex(index);  // comes back here through currentIndexChanged
    return;
  }
  if (criterion == criterion_) return;
  criterion_ = criterion;
  request_analysis();
}

void MaskView::set_quantization(const QuantConfig& quant) {
  QuantConfig next = quant;
  next.bits = quant_.bits;
  const bool changed = next.granularity != quant_.granularity || next.group != quant_.group ||
                       next.symmetric != quant_.symmetric;
  quant_ = next;
  if (changed && criterion_ == ComparedCriterion::SparseGPT) request_analysis();
}

void MaskView::set_bits(int bits) {
  if (const int index = bits_chooser_->findData(bits); index >= 0 && index != bits_chooser_->currentIndex()) {
    bits_chooser_->setCurrentIndex(index);
    return;
  }
  if (bits == quant_.bits) return;
  quant_.bits = bits;
  if (criterion_ == ComparedCriterion::SparseGPT) request_analysis();
}

bool MaskView::select_layer(const QString& name) {
  const int index = layer_chooser_->findData(name, kLayerNameRole);
  if (index < 0) return false;
  if (index == layer_chooser_->currentIndex()) return true;
  layer_chooser_->setCurrentIndex(index);  // requests the analysis through currentIndexChanged
  return true;
}

void MaskView::set_pattern_text(const QString& text) {
  pattern_chooser_->setEditText(text);
  apply_pattern_text();
}

QString MaskView::current_layer() const { return layer_chooser_->currentData(kLayerNameRole).toString(); }

QString MaskView::error_text() const { return error_; }

void MaskView::apply_pattern_text() {
  try {
    const NMPattern pattern = NMPattern::parse(pattern_chooser_->currentText().toStdString());
    const bool unchanged = pattern == pattern_ && error_.isEmpty();
    pattern_ = pattern;
    if (!unchanged) request_analysis();
  } catch (const Error& error) {
    // A typing slip, shown beside the chooser; the masks of the last good pattern stay on screen.
    error_ = QString::fromStdString(error.what());
    update_status();
  }
}

bool MaskView::can_analyse() const { return source_ && layer_chooser_->currentIndex() >= 0; }

void MaskView::request_analysis() {
  error_.clear();
  ++wanted_generation_;
  if (!can_analyse()) return update_status();
  if (watcher_.isRunning()) {
    busy_ = true;  // on_analysis_finished drops the stale result and starts this request
    return update_status();
  }
  start_analysis();
}

void MaskView::start_analysis() {
  busy_ = true;
  running_generation_ = wanted_generation_;
  std::shared_ptr<const WeightSource> source = source_;
  const QString layer = current_layer();
  const NMPattern pattern = pattern_;
  ComparisonInputs comparison;
  comparison.criterion = criterion_;
  comparison.quant = quant_;
  comparison.activations = activations_;
  comparison.model = model_masks_;
  watcher_.setFuture(QtConcurrent::run(
      [source, layer, pattern, comparison] { return analyse_layer(source, layer, pattern, comparison); }));
  update_status();
}

void MaskView::on_analysis_finished() {
  if (running_generation_ != wanted_generation_) {
    if (can_analyse()) return start_analysis();
    busy_ = false;
    return update_status();
  }
  busy_ = false;
  MaskAnalysis analysis = watcher_.result();
  if (!analysis.error.isEmpty()) {
    const QString message = analysis.error;
    analysis_ = std::move(analysis);
    magnitude_map_->clear("Nothing to show: " + message);
    compared_map_->clear("Nothing to show: " + message);
    row_plot_->clear();
    histogram_->clear();
    agreement_->clear();
    show_error(message);
    emit failed(message);
    return;
  }
  show_analysis(std::move(analysis));
}

void MaskView::show_analysis(MaskAnalysis analysis) {
  // Switching the pattern of one layer keeps the place the user was looking at.
  const bool same_layer = analysis_.magnitude && analysis.magnitude && analysis_.layer == analysis.layer &&
                          analysis_.magnitude->rows == analysis.magnitude->rows &&
                          analysis_.magnitude->cols == analysis.magnitude->cols;
  const QRectF previous_viewport = magnitude_map_->viewport();
  analysis_ = std::move(analysis);
  const QString pattern = QString::fromStdString(analysis_.pattern.to_string());
  const auto kept = [](const NMSelection& selection) {
    return QString::number(100.0 * selection.kept_fraction(), 'f', 1) + "% kept";
  };
  magnitude_title_->setText(QString("Magnitude |w|  ·  %1, %2").arg(pattern, kept(*analysis_.magnitude)));
  magnitude_map_->set_mask(analysis_.weights, analysis_.magnitude);
  const QString title = compared_criterion_title(analysis_.criterion);
  const QString name = compared_criterion_name(analysis_.criterion);
  if (analysis_.compared) {
    compared_title_->setText(QString("%1  ·  %2, %3").arg(title, pattern, kept(*analysis_.compared)));
    compared_map_->set_mask(analysis_.weights, analysis_.compared);
  } else {
    compared_title_->setText(title);
    QString reason = analysis_.compared_unavailable;
    if (!model_masks_note_.isEmpty()) reason += "\n(Not from the model's own calibration: " + model_masks_note_ + ")";
    compared_map_->clear(reason);
  }
  row_plot_->set_shares(analysis_.magnitude_rows, analysis_.compared_rows, name);
  row_plot_->set_viewport(magnitude_map_->viewport());
  if (same_layer) magnitude_map_->set_viewport(previous_viewport);
  histogram_->set_histograms(analysis_.magnitude_histogram, analysis_.compared_histogram, name);
  if (analysis_.agreement) {
    QString text = QString("Agreement: magnitude and %1 keep the same %2% of their kept weights. %1's activations: %3.")
                       .arg(name)
                       .arg(100.0 * *analysis_.agreement, 0, 'f', 1)
                       .arg(analysis_.compared_source);
    if (analysis_.criterion == ComparedCriterion::SparseGPT)
      text += QString(" Quantized jointly to %1.").arg(quant_.is_fp16() ? QString("fp16") : QString("int%1").arg(quant_.bits));
    if (!analysis_.compared_note.isEmpty()) text += " Note: " + analysis_.compared_note;
    agreement_->setText(text);
  } else {
    agreement_->setText(QString("Agreement: needs the %1 mask.").arg(name));
  }
  update_status();
  emit analysis_shown(analysis_.layer);
}

void MaskView::show_error(const QString& message) {
  error_ = message;
  update_status();
}

void MaskView::update_status() {
  if (!error_.isEmpty()) {
    status_->setStyleSheet("color: #c0392b;");
    status_->setText(error_);
  } else if (busy_) {
    status_->setStyleSheet({});
    status_->setText(
        QString("Loading and pruning %1 (%2)…").arg(current_layer(), QString::fromStdString(pattern_.to_string())));
  } else {
    status_->setStyleSheet({});
    const bool shown = analysis_.magnitude != nullptr;
    status_->setText(
        shown ? QString("%1, %2").arg(analysis_.layer, shape_text(analysis_.magnitude->rows, analysis_.magnitude->cols))
              : QString());
  }
}

}  // namespace nmscope::gui
