#include "masks/mask_analysis.hpp"

#include <exception>

#include "masks/model_masks.hpp"
#include "nmscope/error.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/second_order.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::gui {

namespace {

RowKeptShares row_shares(const MatrixF& weights, const NMSelection& selection) {
  return {row_kept_magnitude_share(weights, selection, false), row_kept_magnitude_share(weights, selection, true)};
}

MaskAnalysis failure(const QString& layer, NMPattern pattern, const QString& message) {
  MaskAnalysis analysis;
  analysis.layer = layer;
  analysis.pattern = pattern;
  analysis.error = message;
  return analysis;
}

// The right-hand mask from an activations file: wanda from the column norms, sparsegpt from H = X^T X with this
// layer alone compressed (no earlier layer's compression feeds its inputs, unlike a whole-model run).
void compare_from_activations(const MatrixF& weights, const NMPattern& pattern, const ComparisonInputs& inputs,
                              MaskAnalysis& analysis) {
  const QString name = compared_criterion_name(inputs.criterion);
  if (!inputs.activations) {
    analysis.compared_unavailable =
        QString("%1 needs calibration activations: set an activations file, or open a model directory.").arg(name);
    return;
  }
  if (inputs.activations->cols() != weights.cols()) {
    analysis.compared_unavailable = QString(
                                        "The activations have K = %1 but this layer has K = %2: %3 needs "
                                        "activations of this layer's input.")
                                        .arg(inputs.activations->cols())
                                        .arg(weights.cols())
                                        .arg(name);
    return;
  }
  analysis.compared_source = "the activations file (this layer alone)";
  if (inputs.criterion == ComparedCriterion::Wanda) {
    const VectorF norms = activation_column_norms(*inputs.activations);
    analysis.compared = std::make_shared<const NMSelection>(select_nm(weights, pattern, PruningCriterion::Wanda, &norms));
    return;
  }
  SecondOrderSettings settings;
  settings.pattern = pattern;
  settings.quant = inputs.quant;
  const SecondOrderResult result = second_order_compress(weights, input_hessian(*inputs.activations), settings);
  analysis.compared = std::make_shared<const NMSelection>(unpack_selection(result.packed));
  analysis.compared_note = QString::fromStdString(result.note);
}

}  // namespace

QString compared_criterion_name(ComparedCriterion criterion) {
  return criterion == ComparedCriterion::Wanda ? "wanda" : "sparsegpt";
}

QString compared_criterion_title(ComparedCriterion criterion) {
  return criterion == ComparedCriterion::Wanda ? QString("Wanda |w|·‖x‖") : QString("SparseGPT w²/[H⁻¹]²");
}

MaskAnalysis analyse_layer(std::shared_ptr<const WeightSource> source, const QString& layer, NMPattern pattern,
                           const ComparisonInputs& comparison) {
  MaskAnalysis analysis;
  analysis.layer = layer;
  analysis.pattern = pattern;
  analysis.criterion = comparison.criterion;
  try {
    auto weights = std::make_shared<const MatrixF>(source->load_matrix(layer.toStdString()));
    auto magnitude = std::make_shared<const NMSelection>(select_nm(*weights, pattern, PruningCriterion::Magnitude));
    analysis.magnitude_rows = row_shares(*weights, *magnitude);
    analysis.magnitude_histogram = keep_pattern_histogram(*magnitude);
    try {
      if (comparison.model) {
        const ModelCriterion criterion =
            comparison.criterion == ComparedCriterion::Wanda ? ModelCriterion::Wanda : ModelCriterion::SparseGPT;
        analysis.compared = comparison.model->selection(layer.toStdString(), criterion, pattern, comparison.quant);
        analysis.compared_source = QString::fromStdString(comparison.model->calibration_description());
      } else {
        compare_from_activations(*weights, pattern, comparison, analysis);
      }
    } catch (const Error& error) {
      // The magnitude side stands on its own; the right-hand side says why it is empty.
      analysis.compared.reset();
      analysis.compared_unavailable = QString::fromStdString(error.what());
    }
    if (analysis.compared) {
      analysis.compared_rows = row_shares(*weights, *analysis.compared);
      analysis.compared_histogram = keep_pattern_histogram(*analysis.compared);
      analysis.agreement = mask_agreement(*magnitude, *analysis.compared);
    }
    analysis.weights = std::move(weights);
    analysis.magnitude = std::move(magnitude);
  } catch (const Error& error) {
    return failure(layer, pattern, QString::fromStdString(error.what()));
  } catch (const std::exception& error) {
    return failure(layer, pattern, QString("%1: %2").arg(layer, QString::fromStdString(error.what())));
  }
  return analysis;
}

}  // namespace nmscope::gui
