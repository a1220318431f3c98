#pragma once
// The pruning mask of one layer as a zoomable heat map. Zoomed out, a pixel is a block of weights coloured by the
// share of its weight magnitude that the mask keeps (core's kept_magnitude_share): every N:M block keeps N/M of its
// weights, so density would be flat, but the magnitude it keeps shows where pruning hurts. The colour range stretches
// over the blocks in view, shared with linked heat maps so that two criteria compare. Zoomed in until a weight covers
// at least 2x2 device pixels, each weight is drawn: kept ones shaded by |w| (normalised over the kept weights in
// view), pruned ones in a neutral tone, with group boundaries every M columns once cells are large. Wheel zooms around
// the cursor, drag pans, double-click shows the whole layer again. The picture is a cached image, redrawn only when
// the viewport, size, data or the shared colour range change.
#include <QImage>
#include <QList>
#include <QPointer>
#include <QRectF>
#include <QWidget>
#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "nmscope/mask_statistics.hpp"
#include "nmscope/matrix.hpp"

namespace nmscope::gui {

class MaskHeatmap final : public QWidget {
  Q_OBJECT

 public:
  explicit MaskHeatmap(QWidget* parent = nullptr);

  // Shows the mask of one layer, whole layer in view. The selection must have the weights' shape.
  void set_mask(std::shared_ptr<const MatrixF> weights, std::shared_ptr<const NMSelection> selection);
  // Shows nothing but `reason` (e.g. why there is no wanda mask).
  void clear(const QString& reason);

  bool has_mask() const { return selection_ != nullptr; }
  const QString& placeholder_text() const { return placeholder_; }
  // The part of the layer in view, in weights: x = column, y = row.
  QRectF viewport() const { return viewport_; }
  QRectF whole_layer() const;
  // Where the mask is drawn inside the widget (the rest is the legend).
  QRect map_area() const;
  // True when single weights are drawn rather than blocks.
  bool shows_single_weights() const;
  // The hover tooltip for a widget position: one weight, or one block when zoomed out; empty off the mask.
  QString tooltip_at(const QPoint& position) const;
  // Zoomed out, both heat maps colour their blocks over one range, the union of what each has in view (for two
  // criteria of one layer, with linked viewports). Symmetric; a linked map that is destroyed drops out.
  void link_colour_range(MaskHeatmap* other);
  // The kept |w| share range [low, high] the block colours span: over this map's and its linked maps' blocks in view,
  // widened to at least kMinShareSpan. {0, 1} when no map shows blocks.
  std::pair<float, float> colour_range() const;
  static constexpr float kMinShareSpan = 0.01f;
  // Milliseconds the last cache redraw took (for the smoothness figures).
  double last_render_ms() const { return last_render_ms_; }

  QSize sizeHint() const override { return {480, 360}; }
  QSize minimumSizeHint() const override { return {160, 120}; }

 public slots:
  // Shows `viewport` (clamped to the layer and the zoom limits); emits viewport_changed when that changes anything.
  void set_viewport(const QRectF& viewport);
  void reset_viewport();
  // Zooms by `factor` (> 1 zooms in) keeping the weight under `anchor` (widget coordinates) in place.
  void zoom_at(const QPointF& anchor, double factor);

 signals:
  // Fires whenever the part of the layer in view changes (zoom, pan, reset, a new mask, set_viewport), so that
  // linked heat maps and the row plot follow.
  void viewport_changed(const QRectF& viewport);

 protected:
  bool event(QEvent* event) override;
  void changeEvent(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  QRectF clamped(const QRectF& viewport) const;
  void apply_viewport(const QRectF& viewport);
  QPointF to_matrix(const QPointF& position) const;
  void render_cache() const;
  void render_blocks(QImage& image) const;
  void render_weights(QImage& image) const;
  void draw_legend(QPainter& painter) const;
  // The kept |w| share of the blocks in view at the current size; recomputed only when either or the data change.
  const DensityGrid& share_grid() const;
  // Lowest and highest share in view; none when single weights are shown or there is no mask.
  std::optional<std::pair<float, float>> share_extent() const;
  // The data or viewport changed: linked maps must recolour, their range may have moved.
  void invalidate_linked() const;

  std::shared_ptr<const MatrixF> weights_;
  std::shared_ptr<const NMSelection> selection_;
  QString placeholder_;
  QRectF viewport_;
  bool emitting_ = false;
  QPoint drag_origin_;
  QRectF drag_viewport_;
  bool dragging_ = false;
  QList<QPointer<MaskHeatmap>> colour_links_;

  // The cache and what the legend needs from the render that made it.
  mutable QImage cache_;
  mutable bool cache_valid_ = false;
  mutable bool cache_shows_weights_ = false;
  mutable float cache_max_abs_ = 0;
  mutable std::pair<float, float> cache_range_{0.0f, 1.0f};
  // The share grid and the request it answers: {first row, rows, first column, columns, grid rows, grid columns}.
  mutable DensityGrid share_grid_;
  mutable std::array<int64_t, 6> share_grid_request_{};
  mutable bool share_grid_valid_ = false;
  mutable double last_render_ms_ = 0;
};

}  // namespace nmscope::gui
