#pragma once
// Kept fraction per row, drawn as a vertical strip beside the heat maps: rows run down as in the heat map (the strip
// follows its viewport), the fraction runs left (0) to right (1). Where a pixel spans several rows the strip shows
// their range as a band and their mean as the line, so a single odd row never disappears when zoomed out.
#include <QWidget>
#include <vector>

namespace nmscope::gui {

class RowSparsityPlot final : public QWidget {
  Q_OBJECT

 public:
  explicit RowSparsityPlot(QWidget* parent = nullptr);

  // One series per criterion (core's row_kept_fraction); an empty vector is not drawn.
  void set_fractions(std::vector<double> magnitude, std::vector<double> wanda);
  void clear() { set_fractions({}, {}); }
  const std::vector<double>& magnitude_fractions() const { return magnitude_; }
  const std::vector<double>& wanda_fractions() const { return wanda_; }
  double first_row() const { return first_row_; }
  double row_count() const { return row_count_; }

  QSize sizeHint() const override { return {110, 360}; }
  QSize minimumSizeHint() const override { return {80, 120}; }

 public slots:
  // The rows in view, from a heat map's viewport (y = first row, height = rows).
  void set_viewport(const QRectF& viewport);

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  void draw_series(class QPainter& painter, const QRect& plot, const std::vector<double>& fractions,
                   const QColor& colour, bool dashed) const;

  std::vector<double> magnitude_;
  std::vector<double> wanda_;
  double first_row_ = 0;
  double row_count_ = 0;
};

}  // namespace nmscope::gui
