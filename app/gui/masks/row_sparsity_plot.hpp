#pragma once
// How much of each row's weight a mask keeps, drawn as a vertical strip beside the heat maps: rows run down as in the
// heat map (the strip follows its viewport), the kept share runs right to 1 (nothing lost) from a left end that adapts
// to the rows in view. Per criterion (colour) two lines: the kept share of |w| (dark) and of w^2 (light, 1 minus the
// squared row weight error). Where a pixel spans several rows the strip shows their range as a band and their mean as
// the line, so a single odd row never disappears when zoomed out.
#include <QPolygonF>
#include <QWidget>
#include <utility>
#include <vector>

#include "masks/mask_analysis.hpp"

namespace nmscope::gui {

class RowSparsityPlot final : public QWidget {
  Q_OBJECT

 public:
  explicit RowSparsityPlot(QWidget* parent = nullptr);

  // One pair of series per criterion; empty ones are not drawn.
  // `compared_label` names the right-hand criterion in the key ("wanda", "sparsegpt").
  void set_shares(RowKeptShares magnitude, RowKeptShares compared, QString compared_label = "wanda");
  void clear() { set_shares({}, {}); }
  const RowKeptShares& magnitude_shares() const { return magnitude_; }
  const RowKeptShares& compared_shares() const { return compared_; }
  double first_row() const { return first_row_; }
  double row_count() const { return row_count_; }
  // The share axis [left, right] for the rows in view: right is 1, left a multiple of 0.05 below every share shown.
  std::pair<double, double> share_axis() const;
  // One point per row in view of one series, in widget coordinates (x = share, y = the row's centre).
  QPolygonF row_points(const std::vector<double>& shares) const;

  QSize sizeHint() const override { return {150, 360}; }
  QSize minimumSizeHint() const override { return {110, 120}; }

 public slots:
  // The rows in view, from a heat map's viewport (y = first row, height = rows).
  void set_viewport(const QRectF& viewport);

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QRect plot_area() const;
  // Rows [first, end) at least partly in view, clipped to `count` rows.
  std::pair<int64_t, int64_t> rows_in_view(size_t count) const;
  void draw_series(class QPainter& painter, const std::vector<double>& shares, const QColor& colour,
                   bool light) const;

  RowKeptShares magnitude_;
  RowKeptShares compared_;
  QString compared_label_ = "wanda";
  double first_row_ = 0;
  double row_count_ = 0;
};

}  // namespace nmscope::gui
