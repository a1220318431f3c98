#include "masks/mask_analysis.hpp"

#include <exception>

#include "nmscope/error.hpp"
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

}  // namespace

MaskAnalysis analyse_layer(std::shared_ptr<const WeightSource> source, const QString& layer, NMPattern pattern,
                           std::shared_ptr<const MatrixF> activations) {
  MaskAnalysis analysis;
  analysis.layer = layer;
  analysis.pattern = pattern;
  try {
    auto weights = std::make_shared<const MatrixF>(source->load_matrix(layer.toStdString()));
    auto magnitude = std::make_shared<const NMSelection>(select_nm(*weights, pattern, PruningCriterion::Magnitude));
    analysis.magnitude_rows = row_shares(*weights, *magnitude);
    analysis.magnitude_histogram = keep_pattern_histogram(*magnitude);
    if (!activations) {
      analysis.wanda_unavailable = "Wanda scores |w|·‖x‖ need calibration activations: set an activations file.";
    } else if (activations->cols() != weights->cols()) {
      analysis.wanda_unavailable = QString(
                                       "The activations have K = %1 but this layer has K = %2: wanda needs "
                                       "activations of this layer's input.")
                                       .arg(activations->cols())
                                       .arg(weights->cols());
    } else {
      const VectorF norms = activation_column_norms(*activations);
      auto wanda = std::make_shared<const NMSelection>(select_nm(*weights, pattern, PruningCriterion::Wanda, &norms));
      analysis.wanda_rows = row_shares(*weights, *wanda);
      analysis.wanda_histogram = keep_pattern_histogram(*wanda);
      analysis.agreement = mask_agreement(*magnitude, *wanda);
      analysis.wanda = std::move(wanda);
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
