#include "masks/mask_colors.hpp"

#include <algorithm>
#include <cmath>

namespace nmscope::gui {

namespace {

QRgb mix(QRgb a, QRgb b, double t) {
  const auto channel = [t](int x, int y) { return int(std::lround(x + (y - x) * t)); };
  return qRgb(channel(qRed(a), qRed(b)), channel(qGreen(a), qGreen(b)), channel(qBlue(a), qBlue(b)));
}

}  // namespace

QRgb viridis(double t) {
  // matplotlib's viridis sampled at 16 evenly spaced points; linear interpolation between them is within a few
  // levels of the full 256-entry table.
  static constexpr std::array<QRgb, 16> kStops = {0x440154, 0x481a6c, 0x472f7d, 0x414487, 0x39568c, 0x31688e,
                                                  0x2a788e, 0x23888e, 0x1f988b, 0x22a884, 0x35b779, 0x54c568,
                                                  0x7ad151, 0xa5db36, 0xd2e21b, 0xfde725};
  const double position = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kStops.size() - 1);
  const size_t below = std::min(size_t(position), kStops.size() - 2);
  return mix(kStops[below] | 0xff000000u, kStops[below + 1] | 0xff000000u, position - double(below));
}

MaskColors MaskColors::from_palette(const QPalette& palette) {
  const QColor base = palette.color(QPalette::Base);
  const QColor text = palette.color(QPalette::Text);
  const bool dark = base.lightness() < 128;
  MaskColors colors;
  colors.cell_gap = base.rgb();
  colors.pruned = mix(base.rgb(), text.rgb(), dark ? 0.16 : 0.10);
  // Larger |w| stands out more from the background: darker on a light theme, brighter on a dark one.
  colors.kept_low = dark ? qRgb(0x8c, 0x2d, 0x04) : qRgb(0xfd, 0xae, 0x6b);
  colors.kept_high = dark ? qRgb(0xfe, 0xe6, 0xce) : qRgb(0x7f, 0x27, 0x04);
  colors.group_boundary = text;
  colors.group_boundary.setAlpha(150);
  return colors;
}

QRgb MaskColors::kept(double t) const { return mix(kept_low, kept_high, std::clamp(t, 0.0, 1.0)); }

}  // namespace nmscope::gui
