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

// Per row, how much of the weight one mask keeps (core's row_kept_magnitude_share).
struct RowKeptShares {
  std::vector<double> abs;      // sum |w| kept / sum |w|
  std::vector<double> squared;  // sum w^2 kept / sum w^2 = 1 - (row weight error)^2
  bool empty() const { return abs.empty() && squared.empty(); }
};

struct MaskAnalysis {
  QString layer;
  NMPattern pattern;
  std::shared_ptr<const MatrixF> weights;
  std::shared_ptr<const NMSelection> magnitude;
  std::shared_ptr<const NMSelection> wanda;  // null when there is no wanda mask; wanda_unavailable says why
  QString wanda_unavailable;
  RowKeptShares magnitude_rows;
  RowKeptShares wanda_rows;
  std::optional<KeepPatternHistogram> magnitude_histogram;
  std::optional<KeepPatternHistogram> wanda_histogram;
  std::optional<double> agreement;  // share of kept weights both criteria keep
  QString error;                    // non-empty when loading or pruning failed; nothing else is set then
};

// Never throws: core errors land in `error`. Safe to run on any thread (the source is only read).
MaskAnalysis analyse_layer(std::shared_ptr<const WeightSource> source, const QString& layer, NMPattern pattern,
                           std::shared_ptr<const MatrixF> activations);

}  // namespace nmscope::gui
