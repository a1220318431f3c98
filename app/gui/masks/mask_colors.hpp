#pragma once
// The colours of the mask view, in one place so the heat map and its legend always agree.
// Blocks (kept share of |w|) use viridis (perceptually uniform, readable in grey and by colour-blind viewers); single weights use one
// hue whose contrast against the background grows with |w|, and pruned weights a neutral tone from the palette.
#include <QColor>
#include <QPalette>
#include <array>

namespace nmscope::gui {

// viridis(t) for t in [0, 1] (clamped).
QRgb viridis(double t);

struct MaskColors {
  QRgb pruned;     // neutral: the base colour nudged towards the text colour
  QRgb kept_low;   // a kept weight with |w| near 0
  QRgb kept_high;  // a kept weight with the largest |w| in view
  QRgb cell_gap;   // between single weights at high zoom
  QColor group_boundary;

  static MaskColors from_palette(const QPalette& palette);
  // Kept shade for |w| / max|w| = t in [0, 1].
  QRgb kept(double t) const;
};

}  // namespace nmscope::gui
