#pragma once
// Everything the mask view shows about one layer under one pattern, computed off the GUI thread by core calls
// alone (load_matrix, select_nm, second-order compression, the mask statistics); the view only displays it.
// Magnitude is always on the left; the right-hand side compares one activation-aware criterion with it.
#include <QString>
#include <memory>
#include <optional>
#include <vector>

#include "nmscope/mask_statistics.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {
class WeightSource;
}

namespace nmscope::gui {

class ModelMasks;

// The criterion on the right-hand side.
enum class ComparedCriterion { Wanda, SparseGPT };
QString compared_criterion_name(ComparedCriterion criterion);  // "wanda", "sparsegpt"
QString compared_criterion_title(ComparedCriterion criterion);  // "Wanda |w|·‖x‖", "SparseGPT w²/[H⁻¹]²"

// Per row, how much of the weight one mask keeps (core's row_kept_magnitude_share).
struct RowKeptShares {
  std::vector<double> abs;      // sum |w| kept / sum |w|
  std::vector<double> squared;  // sum w^2 kept / sum w^2 = 1 - (row weight error)^2
  bool empty() const { return abs.empty() && squared.empty(); }
};

// Where the right-hand mask gets its activations from.
struct ComparisonInputs {
  ComparedCriterion criterion = ComparedCriterion::Wanda;
  // sparsegpt chooses masks jointly with quantization (SparseGPT §3.4): the grid it quantizes on.
  QuantConfig quant;
  // Calibration activations [tokens, K] of the layer's input (an activations file); used when `model` is null.
  std::shared_ptr<const MatrixF> activations;
  // A model directory: the masks of the whole model compressed on its own calibration forward (model_masks.hpp).
  std::shared_ptr<ModelMasks> model;
};

struct MaskAnalysis {
  QString layer;
  NMPattern pattern;
  ComparedCriterion criterion = ComparedCriterion::Wanda;
  std::shared_ptr<const MatrixF> weights;
  std::shared_ptr<const NMSelection> magnitude;
  std::shared_ptr<const NMSelection> compared;  // null when it cannot be computed; compared_unavailable says why
  QString compared_unavailable;
  QString compared_source;  // where its activations came from ("the activations file", "the model's own forward ...")
  QString compared_note;    // a fallback core took (a singular Hessian), empty when none
  RowKeptShares magnitude_rows;
  RowKeptShares compared_rows;
  std::optional<KeepPatternHistogram> magnitude_histogram;
  std::optional<KeepPatternHistogram> compared_histogram;
  std::optional<double> agreement;  // share of kept weights both criteria keep
  QString error;                    // non-empty when loading or pruning failed; nothing else is set then
};

// Never throws: core errors land in `error`. Safe to run on any thread (the source is only read).
MaskAnalysis analyse_layer(std::shared_ptr<const WeightSource> source, const QString& layer, NMPattern pattern,
                           const ComparisonInputs& comparison);

}  // namespace nmscope::gui
