#include "masks/row_sparsity_plot.hpp"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace nmscope::gui {

namespace {

const QColor kMagnitudeColour(0x1f, 0x77, 0xb4);
const QColor kComparedColour(0xd6, 0x27, 0x28);
constexpr double kAxisStep = 0.05;

}  // namespace

RowSparsityPlot::RowSparsityPlot(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
  setToolTip(
      "Kept share of each row in view: Σ|w| kept / Σ|w| (dark line) and Σw² kept / Σw² (light line, 1 − row "
      "error²); "
      "1 at the right means nothing lost");
}

void RowSparsityPlot::set_shares(RowKeptShares magnitude, RowKeptShares compared, QString compared_label) {
  magnitude_ = std::move(magnitude);
  compared_ = std::move(compared);
  compared_label_ = std::move(compared_label);
  first_row_ = 0;
  row_count_ = double(std::max(magnitude_.abs.size(), compared_.abs.size()));
  update();
}

void RowSparsityPlot::set_viewport(const QRectF& viewport) {
  first_row_ = viewport.top();
  row_count_ = viewport.height();
  update();
}

QRect RowSparsityPlot::plot_area() const { return rect().adjusted(6, 0, -6, 0); }

std::pair<int64_t, int64_t> RowSparsityPlot::rows_in_view(size_t count) const {
  const auto first = std::clamp<int64_t>(int64_t(std::floor(first_row_)), 0, int64_t(count));
  const auto end = std::clamp<int64_t>(int64_t(std::ceil(first_row_ + row_count_)), first, int64_t(count));
  return {first, end};
}

std::pair<double, double> RowSparsityPlot::share_axis() const {
  double lowest = 1.0;
  for (const std::vector<double>* shares : {&magnitude_.abs, &magnitude_.squared, &compared_.abs, &compared_.squared}) {
    const auto [first, end] = rows_in_view(shares->size());
    for (int64_t row = first; row < end; ++row) lowest = std::min(lowest, (*shares)[size_t(row)]);
  }
  // A whole step below the lowest share, so that its line never sits on the edge.
  const double left = std::floor(std::max(0.0, lowest) / kAxisStep - 1e-9) * kAxisStep;
  return {std::clamp(left, 0.0, 1.0 - kAxisStep), 1.0};
}

QPolygonF RowSparsityPlot::row_points(const std::vector<double>& shares) const {
  QPolygonF points;
  if (shares.empty() || row_count_ <= 0) return points;
  const QRect plot = plot_area();
  const auto [left, right] = share_axis();
  const auto [first, end] = rows_in_view(shares.size());
  points.reserve(end - first);
  for (int64_t row = first; row < end; ++row) {
    const double x = plot.left() + std::clamp((shares[size_t(row)] - left) / (right - left), 0.0, 1.0) * plot.width();
    const double y = plot.top() + (double(row) + 0.5 - first_row_) / row_count_ * plot.height();
    points.append(QPointF(x, y));
  }
  return points;
}

void RowSparsityPlot::draw_series(QPainter& painter, const std::vector<double>& shares, const QColor& colour,
                                  bool light) const {
  const QPolygonF points = row_points(shares);
  if (points.isEmpty()) return;
  const QRect plot = plot_area();
  // Per-row shares zigzag; dashes on a zigzag are unreadable, so the second line of a criterion is a lighter shade.
  const QColor line_colour = light ? QColor::fromHslF(colour.hslHueF(), colour.hslSaturationF(), 0.75) : colour;
  painter.setPen(QPen(line_colour, light ? 1.2 : 1.5));
  if (points.size() <= plot.height()) {
    painter.drawPolyline(points);
    return;
  }
  // More rows than pixels: per pixel row, the range of its rows as a band and their mean as the line.
  QPainterPath mean_line;
  QColor band = colour;
  band.setAlpha(light ? 35 : 60);
  qsizetype next = 0;
  for (int y = 0; y < plot.height() && next < points.size(); ++y) {
    const double bottom = plot.top() + y + 1;
    double low = points[next].x(), high = low, sum = 0;
    qsizetype count = 0;
    for (; next < points.size() && (points[next].y() < bottom || count == 0); ++next, ++count) {
      low = std::min(low, points[next].x());
      high = std::max(high, points[next].x());
      sum += points[next].x();
    }
    if (high > low) painter.fillRect(QRectF(low, plot.top() + y, high - low, 1), band);
    const QPointF point(sum / double(count), plot.top() + y + 0.5);
    if (mean_line.elementCount() == 0)
      mean_line.moveTo(point);
    else
      mean_line.lineTo(point);
  }
  painter.drawPath(mean_line);
}

void RowSparsityPlot::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const QRect plot = plot_area();
  const auto [left, right] = share_axis();
  QColor grid = palette().color(QPalette::Text);
  grid.setAlpha(50);
  painter.setPen(QPen(grid, 1, Qt::DotLine));
  for (const double fraction : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const int x = plot.left() + int(std::lround(fraction * plot.width()));
    painter.drawLine(x, 0, x, height());
  }
  painter.setRenderHint(QPainter::Antialiasing);
  // Magnitude keeps the most |w| a group can keep, so its lines lie right of the other criterion's: drawn last, both show.
  draw_series(painter, compared_.abs, kComparedColour, false);
  draw_series(painter, compared_.squared, kComparedColour, true);
  draw_series(painter, magnitude_.abs, kMagnitudeColour, false);
  draw_series(painter, magnitude_.squared, kMagnitudeColour, true);

  QFont font = painter.font();
  font.setPointSizeF(font.pointSizeF() * 0.85);
  painter.setFont(font);
  const int line = painter.fontMetrics().height();
  const QRect scale(plot.left(), height() - line - 2, plot.width(), line);
  QColor backdrop = palette().color(QPalette::Base);
  backdrop.setAlpha(200);
  painter.fillRect(scale, backdrop);
  painter.setPen(palette().color(QPalette::PlaceholderText));
  painter.drawText(scale, Qt::AlignLeft | Qt::AlignVCenter, QString::number(left, 'f', 2));
  painter.drawText(scale, Qt::AlignRight | Qt::AlignVCenter, QString::number(right, 'f', 0));
  if (magnitude_.empty() && compared_.empty()) {
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, "kept share per row");
    return;
  }
  int y = 4;
  const int key_lines = int(!magnitude_.empty()) + int(!compared_.empty()) + 1;
  const QRect keys(plot.left(), y, plot.width(), key_lines * line);
  painter.fillRect(keys.adjusted(-2, -2, 2, 2), backdrop);
  const auto key = [&](const QString& name, const QColor& colour, bool shown) {
    if (!shown) return;
    painter.setPen(colour);
    painter.drawText(QRect(plot.left(), y, plot.width(), line), Qt::AlignLeft | Qt::AlignVCenter, name);
    y += line;
  };
  key("magnitude", kMagnitudeColour, !magnitude_.empty());
  key(compared_label_, kComparedColour, !compared_.empty());
  key("dark |w|, light w²", palette().color(QPalette::PlaceholderText), true);
}

}  // namespace nmscope::gui
