#include "masks/row_sparsity_plot.hpp"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace nmscope::gui {

namespace {

const QColor kMagnitudeColour(0x1f, 0x77, 0xb4);
const QColor kWandaColour(0xd6, 0x27, 0x28);

}  // namespace

RowSparsityPlot::RowSparsityPlot(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
  setToolTip("Kept fraction of each row in view (0 left, 1 right)");
}

void RowSparsityPlot::set_fractions(std::vector<double> magnitude, std::vector<double> wanda) {
  magnitude_ = std::move(magnitude);
  wanda_ = std::move(wanda);
  first_row_ = 0;
  row_count_ = double(std::max(magnitude_.size(), wanda_.size()));
  update();
}

void RowSparsityPlot::set_viewport(const QRectF& viewport) {
  first_row_ = viewport.top();
  row_count_ = viewport.height();
  update();
}

void RowSparsityPlot::draw_series(QPainter& painter, const QRect& plot, const std::vector<double>& fractions,
                                  const QColor& colour, bool dashed) const {
  if (fractions.empty() || row_count_ <= 0) return;
  const auto x_of = [&](double fraction) { return plot.left() + std::clamp(fraction, 0.0, 1.0) * plot.width(); };
  QPainterPath mean_line;
  QColor band = colour;
  band.setAlpha(60);
  for (int y = 0; y < plot.height(); ++y) {
    const double top = first_row_ + y * row_count_ / plot.height();
    const double bottom = first_row_ + (y + 1) * row_count_ / plot.height();
    const auto first = std::clamp<int64_t>(int64_t(std::floor(top)), 0, int64_t(fractions.size()) - 1);
    const auto last = std::clamp<int64_t>(int64_t(std::ceil(bottom)) - 1, first, int64_t(fractions.size()) - 1);
    double low = fractions[size_t(first)], high = low, sum = 0;
    for (int64_t row = first; row <= last; ++row) {
      low = std::min(low, fractions[size_t(row)]);
      high = std::max(high, fractions[size_t(row)]);
      sum += fractions[size_t(row)];
    }
    const double mean = sum / double(last - first + 1);
    if (high > low) painter.fillRect(QRectF(x_of(low), plot.top() + y, x_of(high) - x_of(low), 1), band);
    const QPointF point(x_of(mean), plot.top() + y + 0.5);
    if (y == 0)
      mean_line.moveTo(point);
    else
      mean_line.lineTo(point);
  }
  // Both criteria keep N per group, so their lines usually coincide: the second one is dashed to show through.
  painter.setPen(QPen(colour, 1.5, dashed ? Qt::DashLine : Qt::SolidLine));
  painter.drawPath(mean_line);
}

void RowSparsityPlot::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const QRect plot = rect().adjusted(6, 0, -6, 0);
  QColor grid = palette().color(QPalette::Text);
  grid.setAlpha(50);
  painter.setPen(QPen(grid, 1, Qt::DotLine));
  for (const double fraction : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const int x = plot.left() + int(std::lround(fraction * plot.width()));
    painter.drawLine(x, 0, x, height());
  }
  painter.setRenderHint(QPainter::Antialiasing);
  draw_series(painter, plot, magnitude_, kMagnitudeColour, false);
  draw_series(painter, plot, wanda_, kWandaColour, true);

  QFont font = painter.font();
  font.setPointSizeF(font.pointSizeF() * 0.85);
  painter.setFont(font);
  const int line = painter.fontMetrics().height();
  painter.setPen(palette().color(QPalette::PlaceholderText));
  const QRect scale(plot.left(), height() - line - 2, plot.width(), line);
  painter.drawText(scale, Qt::AlignLeft | Qt::AlignVCenter, "0");
  painter.drawText(scale, Qt::AlignHCenter | Qt::AlignVCenter, "0.5");
  painter.drawText(scale, Qt::AlignRight | Qt::AlignVCenter, "1");
  if (magnitude_.empty() && wanda_.empty()) {
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, "kept per row");
    return;
  }
  int y = 4;
  const auto key = [&](const QString& name, const QColor& colour, bool shown) {
    if (!shown) return;
    painter.setPen(colour);
    painter.drawText(QRect(plot.left(), y, plot.width(), line), Qt::AlignLeft | Qt::AlignVCenter, name);
    y += line;
  };
  key("magnitude", kMagnitudeColour, !magnitude_.empty());
  key("wanda", kWandaColour, !wanda_.empty());
}

}  // namespace nmscope::gui
