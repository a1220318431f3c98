#pragma once
// The Masks panel: choose a layer of the open weight source and an N:M pattern, and see the pruning masks that
// magnitude and an activation-aware criterion (wanda or sparsegpt) choose side by side (linked zoom, one colour
// range), how much they agree, the share of weight magnitude each keeps per row and which keep-patterns occur.
// For a model directory the right-hand masks are the ones a whole-model compression chooses on the model's own
// calibration forward (model_masks.hpp), i.e. what `model-eval` measures; for other sources they come from an
// activations file. Loading and pruning run on Qt's thread pool; the panel stays responsive and says it is busy.
#include <QFutureWatcher>
#include <QWidget>
#include <memory>
#include <optional>

#include "masks/mask_analysis.hpp"
#include "nmscope/pruning.hpp"

class QComboBox;
class QLabel;

namespace nmscope {
class WeightSource;
}

namespace nmscope::gui {

class KeepPatternHistogramView;
class MaskHeatmap;
class ModelMasks;
class RowSparsityPlot;

class MaskView final : public QWidget {
  Q_OBJECT

 public:
  explicit MaskView(QWidget* parent = nullptr);
  ~MaskView() override;

  // Lists the source's matrix tensors and shows the first one (null: empties the panel).
  void set_source(std::shared_ptr<WeightSource> source);
  // Calibration activations [tokens, K] for the right-hand side of a non-model source (null: none). Recomputes the
  // shown layer.
  void set_activations(std::shared_ptr<const MatrixF> activations);
  // The criterion on the right-hand side; recomputes the shown layer.
  void set_compared_criterion(ComparedCriterion criterion);
  ComparedCriterion compared_criterion() const { return criterion_; }
  // Granularity, group and symmetry sparsegpt quantizes with (bits come from the panel's own chooser).
  void set_quantization(const QuantConfig& quant);
  void set_bits(int bits);  // 2..8, 16 = fp16
  QuantConfig quantization() const { return quant_; }
  // True when the open source is a model directory whose masks come from a whole-model compression.
  bool uses_model_calibration() const { return model_masks_ != nullptr; }

  // Shows the layer named `name` (as listed in the layer chooser); false when the source has no such matrix.
  bool select_layer(const QString& name);
  // Types `text` into the pattern chooser and applies it, as pressing Enter does.
  void set_pattern_text(const QString& text);

  // True from a request until its result is shown (including a request queued behind a running one).
  bool is_busy() const { return busy_; }
  QString current_layer() const;
  // The pattern of the masks shown (the last one that parsed).
  NMPattern current_pattern() const { return pattern_; }
  std::shared_ptr<const NMSelection> magnitude_selection() const { return analysis_.magnitude; }
  std::shared_ptr<const NMSelection> compared_selection() const { return analysis_.compared; }
  std::optional<double> agreement() const { return analysis_.agreement; }
  // The message shown for a pattern that does not parse or a layer that failed; empty when all is well.
  QString error_text() const;
  // Why the right-hand side is empty; empty when it shows a mask.
  QString compared_note() const { return analysis_.compared_unavailable; }
  // Where the right-hand mask's activations came from, and any fallback core took.
  QString compared_source() const { return analysis_.compared_source; }

  QComboBox* layer_chooser() const { return layer_chooser_; }
  QComboBox* pattern_chooser() const { return pattern_chooser_; }
  MaskHeatmap* magnitude_heatmap() const { return magnitude_map_; }
  MaskHeatmap* compared_heatmap() const { return compared_map_; }
  QComboBox* criterion_chooser() const { return criterion_chooser_; }
  RowSparsityPlot* row_plot() const { return row_plot_; }
  KeepPatternHistogramView* histogram_view() const { return histogram_; }

 signals:
  // Loading or pruning a layer failed (an nmscope::Error's one-line message); the panel shows it too.
  void failed(const QString& message);
  // The masks of a layer have arrived and are on screen.
  void analysis_shown(const QString& layer);

 private:
  void apply_pattern_text();
  void request_analysis();
  bool can_analyse() const;
  void start_analysis();
  void on_analysis_finished();
  void show_analysis(MaskAnalysis analysis);
  void show_error(const QString& message);
  void update_status();

  std::shared_ptr<WeightSource> source_;
  std::shared_ptr<const MatrixF> activations_;
  std::shared_ptr<ModelMasks> model_masks_;  // set when the source is a model directory core can run
  QString model_masks_note_;                  // why a model directory's own calibration is not used
  ComparedCriterion criterion_ = ComparedCriterion::Wanda;
  QuantConfig quant_;
  NMPattern pattern_{2, 4};
  MaskAnalysis analysis_;
  QFutureWatcher<MaskAnalysis> watcher_;
  bool busy_ = false;
  // Each request bumps the wanted generation; a result of an older one is dropped and the newest request runs.
  uint64_t wanted_generation_ = 0;
  uint64_t running_generation_ = 0;
  QString error_;

  QComboBox* layer_chooser_;
  QComboBox* pattern_chooser_;
  QComboBox* criterion_chooser_;
  QComboBox* bits_chooser_;
  QLabel* status_;
  QLabel* agreement_;
  QLabel* magnitude_title_;
  QLabel* compared_title_;
  QLabel* shading_caption_;
  MaskHeatmap* magnitude_map_;
  MaskHeatmap* compared_map_;
  RowSparsityPlot* row_plot_;
  KeepPatternHistogramView* histogram_;
};

}  // namespace nmscope::gui
