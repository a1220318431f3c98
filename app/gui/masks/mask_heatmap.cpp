#include "masks/mask_heatmap.hpp"

#include <QElapsedTimer>
#include <QHelpEvent>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "masks/mask_colors.hpp"

namespace nmscope::gui {

namespace {

constexpr int kLegendWidth = 80;
// Zooming in stops when a weight is this many logical pixels wide: enough to read one cell, not more.
constexpr double kMaxPixelsPerWeight = 48;
// A weight is drawn on its own once it covers at least this many device pixels in each direction.
constexpr double kSingleWeightPixels = 2;
// Cell gaps and group boundaries appear once a weight is this many device pixels wide.
constexpr double kGridLinePixels = 6;

// Index into [0, count) of the weight under a pixel centre, counted from `first`.
int64_t weight_index(double viewport_start, double viewport_extent, int pixel, int pixels, int64_t first,
                     int64_t count) {
  const double at = viewport_start + (pixel + 0.5) * viewport_extent / pixels;
  return std::clamp<int64_t>(int64_t(std::floor(at)) - first, 0, count - 1);
}

}  // namespace

MaskHeatmap::MaskHeatmap(QWidget* parent) : QWidget(parent) {
  setMouseTracking(false);
  setCursor(Qt::CrossCursor);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void MaskHeatmap::set_mask(std::shared_ptr<const MatrixF> weights, std::shared_ptr<const NMSelection> selection) {
  weights_ = std::move(weights);
  selection_ = std::move(selection);
  placeholder_.clear();
  viewport_ = whole_layer();
  cache_valid_ = false;
  share_grid_valid_ = false;
  invalidate_linked();
  update();
  emitting_ = true;
  emit viewport_changed(viewport_);
  emitting_ = false;
}

void MaskHeatmap::clear(const QString& reason) {
  weights_.reset();
  selection_.reset();
  placeholder_ = reason;
  viewport_ = {};
  cache_ = {};
  cache_valid_ = false;
  share_grid_valid_ = false;
  invalidate_linked();
  update();
}

void MaskHeatmap::link_colour_range(MaskHeatmap* other) {
  if (!other || other == this || colour_links_.contains(other)) return;
  colour_links_.append(other);
  other->colour_links_.append(this);
  cache_valid_ = false;
  other->cache_valid_ = false;
  update();
  other->update();
}

void MaskHeatmap::invalidate_linked() const {
  for (const QPointer<MaskHeatmap>& other : colour_links_)
    if (other) {
      other->cache_valid_ = false;
      other->update();
    }
}

QRectF MaskHeatmap::whole_layer() const {
  if (!selection_) return {};
  return QRectF(0, 0, double(selection_->cols), double(selection_->rows));
}

QRect MaskHeatmap::map_area() const {
  if (width() < 3 * kLegendWidth) return rect();
  return rect().adjusted(0, 0, -kLegendWidth, 0);
}

bool MaskHeatmap::shows_single_weights() const {
  if (!selection_ || viewport_.isEmpty()) return false;
  const QRect area = map_area();
  const double device_ratio = devicePixelRatioF();
  return area.width() * device_ratio / viewport_.width() >= kSingleWeightPixels &&
         area.height() * device_ratio / viewport_.height() >= kSingleWeightPixels;
}

QRectF MaskHeatmap::clamped(const QRectF& viewport) const {
  const QRectF whole = whole_layer();
  if (whole.isEmpty()) return {};
  const QRect area = map_area();
  const double min_width = std::min(whole.width(), std::max(1.0, area.width() / kMaxPixelsPerWeight));
  const double min_height = std::min(whole.height(), std::max(1.0, area.height() / kMaxPixelsPerWeight));
  const double width = std::clamp(viewport.width(), min_width, whole.width());
  const double height = std::clamp(viewport.height(), min_height, whole.height());
  const QPointF centre = viewport.center();
  const double left = std::clamp(centre.x() - width / 2, 0.0, whole.width() - width);
  const double top = std::clamp(centre.y() - height / 2, 0.0, whole.height() - height);
  return QRectF(left, top, width, height);
}

void MaskHeatmap::apply_viewport(const QRectF& viewport) {
  const QRectF next = clamped(viewport);
  if (next == viewport_) return;
  viewport_ = next;
  cache_valid_ = false;
  invalidate_linked();
  update();
  emitting_ = true;
  emit viewport_changed(viewport_);
  emitting_ = false;
}

void MaskHeatmap::set_viewport(const QRectF& viewport) {
  // A linked heat map answers our own signal; taking that echo would bounce between two slightly different clamps.
  if (emitting_ || !selection_) return;
  apply_viewport(viewport);
}

void MaskHeatmap::reset_viewport() { apply_viewport(whole_layer()); }

QPointF MaskHeatmap::to_matrix(const QPointF& position) const {
  const QRect area = map_area();
  return {viewport_.left() + (position.x() - area.left()) / std::max(1, area.width()) * viewport_.width(),
          viewport_.top() + (position.y() - area.top()) / std::max(1, area.height()) * viewport_.height()};
}

void MaskHeatmap::zoom_at(const QPointF& anchor, double factor) {
  if (!selection_ || factor <= 0) return;
  const QRect area = map_area();
  const QPointF under_anchor = to_matrix(anchor);
  const double anchor_x = (anchor.x() - area.left()) / std::max(1, area.width());
  const double anchor_y = (anchor.y() - area.top()) / std::max(1, area.height());
  const double width = viewport_.width() / factor, height = viewport_.height() / factor;
  QRectF next(under_anchor.x() - anchor_x * width, under_anchor.y() - anchor_y * height, width, height);
  // Clamping keeps the centre; when only the position has to move, keep the anchor as close as the layer allows.
  const QRectF whole = whole_layer();
  next.setWidth(std::clamp(width, 0.0, whole.width()));
  next.setHeight(std::clamp(height, 0.0, whole.height()));
  next.moveLeft(std::clamp(next.left(), 0.0, whole.width() - next.width()));
  next.moveTop(std::clamp(next.top(), 0.0, whole.height() - next.height()));
  apply_viewport(next);
}

void MaskHeatmap::render_cache() const {
  if (cache_valid_) return;
  QElapsedTimer timer;
  timer.start();
  const QRect area = map_area();
  const double device_ratio = devicePixelRatioF();
  const QSize pixels(std::max(1, int(std::lround(area.width() * device_ratio))),
                     std::max(1, int(std::lround(area.height() * device_ratio))));
  if (cache_.size() != pixels) cache_ = QImage(pixels, QImage::Format_RGB32);
  cache_.setDevicePixelRatio(1.0);
  cache_shows_weights_ = shows_single_weights();
  if (!selection_ || viewport_.isEmpty())
    cache_.fill(palette().color(QPalette::Base));
  else if (cache_shows_weights_)
    render_weights(cache_);
  else
    render_blocks(cache_);
  cache_.setDevicePixelRatio(device_ratio);
  cache_valid_ = true;
  last_render_ms_ = double(timer.nsecsElapsed()) / 1e6;
}

const DensityGrid& MaskHeatmap::share_grid() const {
  const QRect area = map_area();
  const double device_ratio = devicePixelRatioF();
  const int64_t pixel_cols = std::max(1, int(std::lround(area.width() * device_ratio)));
  const int64_t pixel_rows = std::max(1, int(std::lround(area.height() * device_ratio)));
  const int64_t first_row = int64_t(std::floor(viewport_.top()));
  const int64_t row_end = std::min<int64_t>(selection_->rows, int64_t(std::ceil(viewport_.bottom())));
  // Blocks of whole groups: every block then keeps exactly N of each M, and its share compares with its neighbours'.
  const int64_t group_size = selection_->pattern.group_size;
  const int64_t first_col = int64_t(std::floor(viewport_.left())) / group_size * group_size;
  const int64_t col_end = std::min<int64_t>(
      selection_->cols, (int64_t(std::ceil(viewport_.right())) + group_size - 1) / group_size * group_size);
  const std::array<int64_t, 6> request{first_row, row_end - first_row, first_col, col_end - first_col, pixel_rows,
                                       pixel_cols};
  if (!share_grid_valid_ || request != share_grid_request_) {
    share_grid_ = kept_magnitude_share(*weights_, *selection_, request[0], request[1], request[2], request[3],
                                       request[4], request[5], group_size);
    share_grid_request_ = request;
    share_grid_valid_ = true;
  }
  return share_grid_;
}

std::optional<std::pair<float, float>> MaskHeatmap::share_extent() const {
  if (!selection_ || !weights_ || viewport_.isEmpty() || shows_single_weights()) return std::nullopt;
  const DensityGrid& grid = share_grid();
  if (grid.kept_fraction.empty()) return std::nullopt;
  const auto [lowest, highest] = std::minmax_element(grid.kept_fraction.begin(), grid.kept_fraction.end());
  return std::pair{*lowest, *highest};
}

std::pair<float, float> MaskHeatmap::colour_range() const {
  std::optional<std::pair<float, float>> range = share_extent();
  for (const QPointer<MaskHeatmap>& other : colour_links_) {
    if (!other) continue;
    const auto extent = other->share_extent();
    if (!extent) continue;
    range = range ? std::pair{std::min(range->first, extent->first), std::max(range->second, extent->second)}
                  : *extent;
  }
  if (!range) return {0.0f, 1.0f};
  // A flat view (a dense layer keeps everything) still needs a span to map onto colours; shares never exceed 1.
  if (range->second - range->first < kMinShareSpan) {
    range->first = std::max(0.0f, range->second - kMinShareSpan);
    range->second = range->first + kMinShareSpan;
  }
  return *range;
}

void MaskHeatmap::render_blocks(QImage& image) const {
  const int width = image.width(), height = image.height();
  const DensityGrid& grid = share_grid();
  cache_range_ = colour_range();
  const auto [low, high] = cache_range_;

  static const std::vector<QRgb> lut = [] {
    std::vector<QRgb> table(256);
    for (int index = 0; index < 256; ++index) table[size_t(index)] = viridis(index / 255.0);
    return table;
  }();
  const float scale = 255.0f / (high - low);
  std::vector<int64_t> block_of_pixel_col(static_cast<size_t>(width));
  for (int x = 0; x < width; ++x)
    block_of_pixel_col[size_t(x)] =
        weight_index(viewport_.left(), viewport_.width(), x, width, grid.first_col, grid.col_count) / grid.block_cols;
  for (int y = 0; y < height; ++y) {
    const int64_t block_row =
        weight_index(viewport_.top(), viewport_.height(), y, height, grid.first_row, grid.row_count) / grid.block_rows;
    const float* shares = grid.kept_fraction.data() + block_row * grid.grid_cols;
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
    for (int x = 0; x < width; ++x) {
      const float level = std::clamp((shares[block_of_pixel_col[size_t(x)]] - low) * scale, 0.0f, 255.0f);
      line[x] = lut[size_t(std::lround(level))];
    }
  }
}

void MaskHeatmap::render_weights(QImage& image) const {
  const int width = image.width(), height = image.height();
  const int64_t first_row = int64_t(std::floor(viewport_.top()));
  const int64_t row_end = std::min<int64_t>(selection_->rows, int64_t(std::ceil(viewport_.bottom())));
  const int64_t first_col = int64_t(std::floor(viewport_.left()));
  const int64_t col_end = std::min<int64_t>(selection_->cols, int64_t(std::ceil(viewport_.right())));
  const int64_t rows = row_end - first_row, cols = col_end - first_col;
  const std::vector<uint8_t> kept = kept_mask(*selection_, first_row, rows, first_col, cols);
  const auto weight = [&](int64_t row, int64_t col) { return (*weights_)(first_row + row, first_col + col); };

  float max_abs = 0;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col)
      if (kept[size_t(row * cols + col)]) max_abs = std::max(max_abs, std::fabs(weight(row, col)));
  cache_max_abs_ = max_abs;

  const MaskColors colors = MaskColors::from_palette(palette());
  std::vector<int64_t> col_of_pixel(static_cast<size_t>(width));
  for (int x = 0; x < width; ++x)
    col_of_pixel[size_t(x)] = weight_index(viewport_.left(), viewport_.width(), x, width, first_col, cols);
  for (int y = 0; y < height; ++y) {
    const int64_t row = weight_index(viewport_.top(), viewport_.height(), y, height, first_row, rows);
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
    for (int x = 0; x < width; ++x) {
      const int64_t col = col_of_pixel[size_t(x)];
      line[x] = kept[size_t(row * cols + col)] ? colors.kept(max_abs > 0 ? std::fabs(weight(row, col)) / max_abs : 0.0)
                                               : colors.pruned;
    }
  }

  const double cell_width = width / viewport_.width(), cell_height = height / viewport_.height();
  if (std::min(cell_width, cell_height) < kGridLinePixels) return;
  QPainter painter(&image);
  const auto x_of = [&](int64_t col) { return int(std::lround((double(col) - viewport_.left()) * cell_width)); };
  const auto y_of = [&](int64_t row) { return int(std::lround((double(row) - viewport_.top()) * cell_height)); };
  painter.setPen(QPen(QColor(colors.cell_gap), 1));
  for (int64_t col = first_col + 1; col < col_end; ++col) painter.drawLine(x_of(col), 0, x_of(col), height);
  for (int64_t row = first_row + 1; row < row_end; ++row) painter.drawLine(0, y_of(row), width, y_of(row));
  const int64_t group_size = selection_->pattern.group_size;
  if (group_size > 1) {
    painter.setPen(QPen(colors.group_boundary, cell_width >= 16 ? 2 : 1));
    for (int64_t col = (first_col + group_size - 1) / group_size * group_size; col <= col_end; col += group_size)
      if (col > 0 && col < selection_->cols) painter.drawLine(x_of(col), 0, x_of(col), height);
  }
}

void MaskHeatmap::draw_legend(QPainter& painter) const {
  const QRect area = map_area();
  if (area == rect()) return;
  const QRect legend(area.right() + 1, 0, width() - area.width(), height());
  painter.fillRect(legend, palette().color(QPalette::Window));
  QFont font = painter.font();
  font.setPointSizeF(font.pointSizeF() * 0.85);
  painter.setFont(font);
  const int line = painter.fontMetrics().height();
  const MaskColors colors = MaskColors::from_palette(palette());
  const int swatch_space = cache_shows_weights_ ? line + 12 : 0;
  const int title_lines = cache_shows_weights_ ? 1 : 2;
  // The bar starts below the title by half a line more than the label centred on its top end needs.
  const int bar_top = (title_lines + 1) * line + 6;
  const QRect bar(legend.left() + 10, bar_top, 12,
                  std::max(10, legend.height() - bar_top - line - 8 - swatch_space));

  QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
  if (cache_shows_weights_) {
    gradient.setColorAt(0, QColor(colors.kept_low));
    gradient.setColorAt(1, QColor(colors.kept_high));
  } else {
    for (int stop = 0; stop <= 15; ++stop) gradient.setColorAt(stop / 15.0, QColor(viridis(stop / 15.0)));
  }
  painter.fillRect(bar, gradient);
  painter.setPen(palette().color(QPalette::Mid));
  painter.drawRect(bar.adjusted(0, 0, -1, -1));

  painter.setPen(palette().color(QPalette::WindowText));
  const int text_left = bar.right() + 5;
  const int text_width = legend.right() - text_left;
  const QRect title(legend.left() + 4, 4, legend.width() - 6, title_lines * line);
  painter.drawText(title, Qt::AlignLeft | Qt::AlignVCenter, cache_shows_weights_ ? "kept |w|" : "kept |w|\nshare");
  const auto label = [&](int y, const QString& text) {
    painter.drawText(QRect(text_left, y - line / 2, text_width, line), Qt::AlignLeft | Qt::AlignVCenter, text);
  };
  if (cache_shows_weights_) {
    label(bar.top(), QString::number(cache_max_abs_, 'g', 3));
    label(bar.bottom(), "0");
    const QRect swatch(bar.left(), bar.bottom() + 10, bar.width(), line - 2);
    painter.fillRect(swatch, QColor(colors.pruned));
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawRect(swatch.adjusted(0, 0, -1, -1));
    painter.setPen(palette().color(QPalette::WindowText));
    label(swatch.center().y(), "pruned");
  } else {
    const auto [low, high] = cache_range_;
    label(bar.top(), QString::number(double(high), 'f', 3));
    label(bar.center().y(), QString::number((double(low) + double(high)) / 2, 'f', 3));
    label(bar.bottom(), QString::number(double(low), 'f', 3));
  }
}

void MaskHeatmap::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!selection_) {
    painter.fillRect(rect(), palette().color(QPalette::Window));
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap, placeholder_);
    return;
  }
  render_cache();
  painter.drawImage(map_area().topLeft(), cache_);
  draw_legend(painter);
}

void MaskHeatmap::resizeEvent(QResizeEvent*) {
  cache_valid_ = false;
  invalidate_linked();  // more or fewer blocks: the shared range may move
  if (selection_) apply_viewport(viewport_);  // the zoom limit depends on the size
}

void MaskHeatmap::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
    cache_valid_ = false;
    update();
  }
  QWidget::changeEvent(event);
}

bool MaskHeatmap::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString text = tooltip_at(help->pos());
    if (text.isEmpty()) {
      QToolTip::hideText();
      event->ignore();
    } else {
      QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
  }
  return QWidget::event(event);
}

QString MaskHeatmap::tooltip_at(const QPoint& position) const {
  const QRect area = map_area();
  if (!selection_ || !area.contains(position)) return {};
  render_cache();
  const QPointF at = to_matrix(QPointF(position) + QPointF(0.5, 0.5));
  const int64_t row = std::clamp<int64_t>(int64_t(std::floor(at.y())), 0, selection_->rows - 1);
  const int64_t col = std::clamp<int64_t>(int64_t(std::floor(at.x())), 0, selection_->cols - 1);
  if (cache_shows_weights_) {
    const bool kept = kept_mask(*selection_, row, 1, col, 1).front() != 0;
    const NMPattern& pattern = selection_->pattern;
    QString text = QString("row %1, column %2\nweight %3 — %4")
                       .arg(row)
                       .arg(col)
                       .arg(double((*weights_)(row, col)), 0, 'g', 5)
                       .arg(kept ? "kept" : "pruned");
    if (pattern.is_dense()) return text + "\ndense: every weight is kept";
    const int64_t group = col / pattern.group_size;
    const int64_t group_end = std::min<int64_t>((group + 1) * pattern.group_size, selection_->cols) - 1;
    return text + QString("\n%1 group %2 of the row (columns %3–%4)")
                      .arg(QString::fromStdString(pattern.to_string()))
                      .arg(group)
                      .arg(group * pattern.group_size)
                      .arg(group_end);
  }
  const DensityGrid& grid = share_grid_;
  if (!share_grid_valid_ || grid.kept_fraction.empty()) return {};
  const int64_t block_row = std::clamp<int64_t>((row - grid.first_row) / grid.block_rows, 0, grid.grid_rows - 1);
  const int64_t block_col = std::clamp<int64_t>((col - grid.first_col) / grid.block_cols, 0, grid.grid_cols - 1);
  const int64_t row_begin = grid.first_row + block_row * grid.block_rows;
  const int64_t row_end = std::min(row_begin + grid.block_rows, grid.first_row + grid.row_count);
  const int64_t col_begin = grid.first_col + block_col * grid.block_cols;
  const int64_t col_end = std::min(col_begin + grid.block_cols, grid.first_col + grid.col_count);
  const DensityGrid density = mask_density(*selection_, row_begin, row_end - row_begin, col_begin, col_end - col_begin, 1, 1);
  return QString("rows %1–%2, columns %3–%4 (%5 weights)\nkept density %6\nkept |w| share %7")
      .arg(row_begin)
      .arg(row_end - 1)
      .arg(col_begin)
      .arg(col_end - 1)
      .arg((row_end - row_begin) * (col_end - col_begin))
      .arg(double(density.at(0, 0)), 0, 'f', 3)
      .arg(double(grid.at(block_row, block_col)), 0, 'f', 4);
}

void MaskHeatmap::wheelEvent(QWheelEvent* event) {
  const QPoint delta = event->angleDelta();
  const int steps = delta.y() != 0 ? delta.y() : delta.x();
  if (steps == 0 || !selection_) return event->ignore();
  zoom_at(event->position(), std::pow(1.25, steps / 120.0));
  event->accept();
}

void MaskHeatmap::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !selection_) return QWidget::mousePressEvent(event);
  dragging_ = true;
  drag_origin_ = event->position().toPoint();
  drag_viewport_ = viewport_;
  setCursor(Qt::ClosedHandCursor);
}

void MaskHeatmap::mouseMoveEvent(QMouseEvent* event) {
  if (!dragging_) return QWidget::mouseMoveEvent(event);
  const QRect area = map_area();
  const QPoint moved = event->position().toPoint() - drag_origin_;
  apply_viewport(drag_viewport_.translated(-moved.x() * drag_viewport_.width() / std::max(1, area.width()),
                                           -moved.y() * drag_viewport_.height() / std::max(1, area.height())));
}

void MaskHeatmap::mouseReleaseEvent(QMouseEvent* event) {
  if (!dragging_) return QWidget::mouseReleaseEvent(event);
  dragging_ = false;
  setCursor(Qt::CrossCursor);
}

void MaskHeatmap::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) reset_viewport();
}

}  // namespace nmscope::gui
