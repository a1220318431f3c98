#pragma once
// Everything the mask view shows about one layer under one pattern, computed off the GUI thread by core calls
// alone (load_matrix, select_nm, the mask statistics); the view only displays it.
#include <QString>
#include <memory>
#include <optional>
#include <vector>

#include "nmscope/mask_statistics.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/nm_pattern.hpp"

namespace nmscope {
class WeightSource;
}

namespace nmscope::gui {

struct MaskAnalysis {
  QString layer;
  NMPattern pattern;
  std::shared_ptr<const MatrixF> weights;
  std::shared_ptr<const NMSelection> magnitude;
  std::shared_ptr<const NMSelection> wanda;  // null when there is no wanda mask; wanda_unavailable says why
  QString wanda_unavailable;
  std::vector<double> magnitude_rows;
  std::vector<double> wanda_rows;
  std::optional<KeepPatternHistogram> magnitude_histogram;
  std::optional<KeepPatternHistogram> wanda_histogram;
  std::optional<double> agreement;  // share of kept weights both criteria keep
  QString error;                    // non-empty when loading or pruning failed; nothing else is set then
};

// Never throws: core errors land in `error`. Safe to run on any thread (the source is only read).
MaskAnalysis analyse_layer(std::shared_ptr<const WeightSource> source, const QString& layer, NMPattern pattern,
                           std::shared_ptr<const MatrixF> activations);

}  // namespace nmscope::gui
