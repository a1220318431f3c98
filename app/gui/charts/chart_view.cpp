#include "charts/chart_view.hpp"

#include <QAbstractBarSeries>
#include <QBarCategoryAxis>
#include <QBarLegendMarker>
#include <QBarSet>
#include <QBuffer>
#include <QCategoryAxis>
#include <QDir>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGraphicsSimpleTextItem>
#include <QImageWriter>
#include <QKeyEvent>
#include <QLegend>
#include <QLegendMarker>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>
#include <QXYSeries>
#include <algorithm>
#include <cmath>
#include <limits>

namespace nmscope::gui {

namespace {

// Each wheel notch zooms by this factor; two notches out undo two notches in exactly.
constexpr double kWheelZoomPerNotch = 0.8;
// Arrow keys pan by this fraction of the plot area.
constexpr double kKeyPanFraction = 0.1;

Qt::Orientation orientation_of(Qt::Alignment side) {
  return side & (Qt::AlignLeft | Qt::AlignRight) ? Qt::Vertical : Qt::Horizontal;
}

bool is_horizontal_bars(const QAbstractSeries* series) {
  return series->type() == QAbstractSeries::SeriesTypeHorizontalBar ||
         series->type() == QAbstractSeries::SeriesTypeHorizontalStackedBar ||
         series->type() == QAbstractSeries::SeriesTypeHorizontalPercentBar;
}

// The data values of `series` along one orientation (bar values lie along the bars; their categories have none).
QList<double> values_of(const QList<QAbstractSeries*>& series, Qt::Orientation orientation) {
  QList<double> values;
  for (QAbstractSeries* one : series) {
    if (auto* xy = qobject_cast<QXYSeries*>(one)) {
      for (const QPointF& point : xy->points()) values.append(orientation == Qt::Horizontal ? point.x() : point.y());
    } else if (auto* bars = qobject_cast<QAbstractBarSeries*>(one);
               bars && (orientation == Qt::Horizontal) == is_horizontal_bars(bars)) {
      values.append(0);  // bars grow from zero
      for (QBarSet* set : bars->barSets())
        for (int index = 0; index < set->count(); ++index) values.append(set->at(index));
    }
  }
  return values;
}

bool has_bars(const QList<QAbstractSeries*>& series) {
  return std::any_of(series.begin(), series.end(),
                     [](QAbstractSeries* one) { return qobject_cast<QAbstractBarSeries*>(one); });
}

// A log range snapped to whole powers of `base` around the positive values, so every decade is labelled. A value
// on (or within a hair of) a power gets a tenth of a power of room instead of sitting on the plot's edge.
QPair<double, double> log_range(const QList<double>& values, double base) {
  double low = std::numeric_limits<double>::infinity();
  double high = 0;
  for (double value : values)
    if (value > 0 && std::isfinite(value)) low = std::min(low, value), high = std::max(high, value);
  if (!(high > 0)) return {1, base};
  const double log_base = std::log(base);
  const double low_exponent = std::log(low) / log_base;
  const double high_exponent = std::log(high) / log_base;
  double low_power = std::floor(low_exponent);
  double high_power = std::ceil(high_exponent);
  if (low_exponent - low_power < 0.05) low_power = low_exponent - 0.1;
  if (high_power - high_exponent < 0.05) high_power = high_exponent + 0.1;
  return {std::pow(base, low_power), std::pow(base, high_power)};
}

// A linear range with a margin (a fraction of the span), so markers on the extremes are not cut in half by the
// plot's edge and value labels past a bar's end still fit.
QPair<double, double> linear_range(const QList<double>& values, double margin) {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  for (double value : values)
    if (std::isfinite(value)) low = std::min(low, value), high = std::max(high, value);
  if (low > high) return {0, 1};
  if (low == high) {
    const double pad = low == 0 ? 1 : std::fabs(low) * 0.1;
    return {low - pad, high + pad};
  }
  const double pad = (high - low) * margin;
  // Keep a zero baseline (bars, counts) instead of padding below it.
  return {low >= 0 && low - pad < 0 ? 0 : low - pad, high + pad};
}

void dim_marker(QLegendMarker* marker, bool dimmed) {
  const qreal alpha = dimmed ? 0.3 : 1.0;
  auto fade = [alpha](QColor color) {
    color.setAlphaF(alpha);
    return color;
  };
  QBrush brush = marker->labelBrush();
  brush.setColor(fade(brush.color()));
  marker->setLabelBrush(brush);
  brush = marker->brush();
  brush.setColor(fade(brush.color()));
  marker->setBrush(brush);
  QPen pen = marker->pen();
  pen.setColor(fade(pen.color()));
  marker->setPen(pen);
}

}  // namespace

ChartView::ChartView(QWidget* parent) : QChartView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setRenderHint(QPainter::TextAntialiasing);
  setRubberBand(QChartView::RectangleRubberBand);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(320, 240);
  chart()->setBackgroundRoundness(0);
  chart()->setMargins(QMargins(6, 6, 6, 6));
  chart()->legend()->setAlignment(Qt::AlignBottom);
  // An entry that still has to be shortened shows its whole name on hover.
  chart()->legend()->setShowToolTips(true);
  message_ = new QGraphicsSimpleTextItem(chart());
  QFont font = message_->font();
  font.setPointSizeF(font.pointSizeF() * 1.3);
  message_->setFont(font);
  message_->setBrush(QColor(90, 90, 90));
  message_->setZValue(100);
  message_->hide();
  connect(chart(), &QChart::plotAreaChanged, this, [this] { place_message(); });
}

QColor ChartView::palette_color(int index) {
  // Tableau 10: distinguishable in print and for the common colour-vision deficiencies.
  static const QColor colors[] = {QColor(0x4e79a7), QColor(0xf28e2b), QColor(0x59a14f), QColor(0xe15759),
                                  QColor(0xb07aa1), QColor(0x76b7b2), QColor(0xedc948), QColor(0xff9da7),
                                  QColor(0x9c755f), QColor(0xbab0ac)};
  return colors[(index % 10 + 10) % 10];
}

void ChartView::clear() {
  chart()->removeAllSeries();
  for (QAbstractAxis* axis : chart()->axes()) {
    chart()->removeAxis(axis);
    delete axis;
  }
  home_ranges_.clear();
  show_message({});
}

QAbstractAxis* ChartView::add_value_axis(Qt::Alignment side, const QString& title,
                                         const QList<QAbstractSeries*>& series) {
  const bool log = (side == Qt::AlignBottom && log_x_) || (side == Qt::AlignLeft && log_y_);
  const double base = side == Qt::AlignBottom ? log_x_base_ : log_y_base_;
  const QList<double> values = values_of(series, orientation_of(side));
  QAbstractAxis* axis = nullptr;
  if (log) {
    auto* log_axis = new QLogValueAxis;
    log_axis->setBase(base);
    log_axis->setLabelFormat("%g");
    log_axis->setMinorTickCount(base == 10 ? 8 : 0);
    log_axis->setMinorGridLinePen(QPen(QColor(235, 235, 235), 1, Qt::DotLine));
    const auto [low, high] = log_range(values, base);
    log_axis->setRange(low, high);
    axis = log_axis;
  } else {
    auto* value_axis = new QValueAxis;
    value_axis->setLabelFormat("%g");
    const auto [low, high] = linear_range(values, has_bars(series) ? 0.15 : 0.05);
    value_axis->setRange(low, high);
    value_axis->applyNiceNumbers();
    axis = value_axis;
  }
  axis->setTitleText(title);
  chart()->addAxis(axis, side);
  for (QAbstractSeries* one : series) one->attachAxis(axis);
  return axis;
}

void ChartView::apply_palette() {
  // Qt Charts' themes are fixed light or dark; taking the colours from the widget palette follows the system's.
  const QPalette colors = palette();
  const QColor base = colors.color(QPalette::Base);
  const QColor text = colors.color(QPalette::Text);
  auto mix = [&](double share) {
    return QColor::fromRgbF(base.redF() * (1 - share) + text.redF() * share, base.greenF() * (1 - share) + text.greenF() * share,
                            base.blueF() * (1 - share) + text.blueF() * share);
  };
  chart()->setBackgroundBrush(base);
  chart()->setTitleBrush(text);
  chart()->legend()->setLabelColor(text);
  setBackgroundBrush(colors.color(QPalette::Window));
  for (QAbstractAxis* axis : chart()->axes()) {
    axis->setLabelsBrush(text);
    axis->setTitleBrush(text);
    axis->setLinePenColor(mix(0.45));
    axis->setGridLineColor(mix(0.14));
    axis->setMinorGridLineColor(mix(0.07));
  }
  if (message_) message_->setBrush(mix(0.6));
}

void ChartView::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) apply_palette();
  QChartView::changeEvent(event);
}

void ChartView::finish_rebuild() {
  apply_palette();
  // A legend row truncates names to "2:4 i…" once it overflows; a column on the right keeps them whole.
  const int entries = int(chart()->legend()->markers().size());
  chart()->legend()->setAlignment(entries > 6 ? Qt::AlignRight : Qt::AlignBottom);
  // Legend entries drawn like their series (dashes, marker shapes): colour alone runs out before configurations do.
  // Bar sets drawn "from series" come out as hollow squares, so they keep filled rectangles.
  const QList<QAbstractSeries*> all_series = chart()->series();
  const bool bars = std::any_of(all_series.begin(), all_series.end(),
                                [](QAbstractSeries* one) { return qobject_cast<QAbstractBarSeries*>(one); });
  chart()->legend()->setMarkerShape(bars ? QLegend::MarkerShapeRectangle : QLegend::MarkerShapeFromSeries);
  for (QLegendMarker* marker : chart()->legend()->markers()) {
    disconnect(marker, &QLegendMarker::clicked, this, nullptr);
    connect(marker, &QLegendMarker::clicked, this, [this, marker] { toggle_series_of(marker); });
  }
  for (QAbstractSeries* series : chart()->series()) {
    disconnect(series, nullptr, this, nullptr);
    if (auto* xy = qobject_cast<QXYSeries*>(series)) {
      connect(xy, &QXYSeries::hovered, this,
              [this, xy](const QPointF& point, bool entered) { show_point_text(xy, point, entered); });
    } else if (auto* bars = qobject_cast<QAbstractBarSeries*>(series)) {
      connect(bars, &QAbstractBarSeries::hovered, this, &ChartView::show_bar_text);
    }
  }
  // Axes around no data show made-up ranges (1 to 10); an empty chart shows only its message.
  const QList<QAbstractSeries*> series = chart()->series();
  const bool has_data = std::any_of(series.begin(), series.end(), [](QAbstractSeries* one) {
    if (auto* xy = qobject_cast<QXYSeries*>(one)) return xy->count() > 0;
    if (auto* bars = qobject_cast<QAbstractBarSeries*>(one))
      return bars->count() > 0 && bars->barSets()[0]->count() > 0;
    return false;
  });
  for (QAbstractAxis* axis : chart()->axes()) axis->setVisible(has_data);
  home_ranges_.clear();
  for (QAbstractAxis* axis : chart()->axes()) {
    if (auto* value = qobject_cast<QValueAxis*>(axis)) {
      home_ranges_.insert(axis, {value->min(), value->max()});
    } else if (auto* log = qobject_cast<QLogValueAxis*>(axis)) {
      home_ranges_.insert(axis, {log->min(), log->max()});
    } else if (auto* category = qobject_cast<QBarCategoryAxis*>(axis)) {
      home_ranges_.insert(axis, {category->min(), category->max()});
    }
  }
  place_message();
}

void ChartView::show_message(const QString& text) {
  message_->setText(text);
  message_->setVisible(!text.isEmpty());
  place_message();
}

QString ChartView::message() const { return message_->isVisible() ? message_->text() : QString(); }

void ChartView::place_message() {
  const QRectF area = chart()->plotArea();
  const QRectF box = message_->boundingRect();
  message_->setPos(area.center() - box.center());
}

void ChartView::set_log_x(bool log, double base) {
  log_x_ = log;
  log_x_base_ = base;
  replace_value_axis(Qt::AlignBottom);
}

void ChartView::set_log_y(bool log, double base) {
  log_y_ = log;
  log_y_base_ = base;
  replace_value_axis(Qt::AlignLeft);
}

void ChartView::replace_value_axis(Qt::Alignment side) {
  const QList<QAbstractAxis*> axes = chart()->axes(orientation_of(side));
  for (QAbstractAxis* old : axes) {
    if (old->alignment() != side) continue;
    const bool is_value = qobject_cast<QValueAxis*>(old) && !qobject_cast<QCategoryAxis*>(old);
    const bool is_log = qobject_cast<QLogValueAxis*>(old);
    if (!is_value && !is_log) return;  // category axes have no log form
    QList<QAbstractSeries*> attached;
    for (QAbstractSeries* series : chart()->series())
      if (series->attachedAxes().contains(old)) attached.append(series);
    const QString title = old->titleText();
    for (QAbstractSeries* series : attached) series->detachAxis(old);
    chart()->removeAxis(old);
    delete old;
    add_value_axis(side, title, attached);
    finish_rebuild();
    return;
  }
}

void ChartView::zoom_by(double factor, QPointF anchor) {
  if (!(factor > 0)) return;
  const QRectF area = chart()->plotArea();
  QPointF center = anchor.isNull() ? area.center() : chart()->mapFromScene(mapToScene(anchor.toPoint()));
  if (!area.contains(center)) center = area.center();
  // A rectangle larger than the plot area makes zoomIn() widen the ranges, so one call serves both directions.
  const QRectF view(center.x() - (center.x() - area.left()) * factor, center.y() - (center.y() - area.top()) * factor,
                    area.width() * factor, area.height() * factor);
  chart()->zoomIn(view);
}

void ChartView::pan_by(QPointF pixels) { chart()->scroll(pixels.x(), pixels.y()); }

void ChartView::reset_zoom() {
  chart()->zoomReset();
  for (auto it = home_ranges_.cbegin(); it != home_ranges_.cend(); ++it)
    if (chart()->axes().contains(it.key())) it.key()->setRange(it.value().first, it.value().second);
}

void ChartView::wheelEvent(QWheelEvent* event) {
  const double notches = event->angleDelta().y() / 120.0;
  if (notches == 0) return QChartView::wheelEvent(event);
  zoom_by(std::pow(kWheelZoomPerNotch, notches), event->position());
  event->accept();
}

void ChartView::mousePressEvent(QMouseEvent* event) {
  // QChartView zooms out on a right click; here right (and middle) drags pan instead.
  if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
    panning_ = true;
    pan_from_ = event->position().toPoint();
    setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  QChartView::mousePressEvent(event);
}

void ChartView::mouseMoveEvent(QMouseEvent* event) {
  if (panning_) {
    const QPoint now = event->position().toPoint();
    const QPoint moved = now - pan_from_;
    pan_from_ = now;
    pan_by(QPointF(-moved.x(), moved.y()));  // the content follows the hand
    event->accept();
    return;
  }
  QChartView::mouseMoveEvent(event);
}

void ChartView::mouseReleaseEvent(QMouseEvent* event) {
  if (panning_ && (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton)) {
    panning_ = false;
    unsetCursor();
    event->accept();
    return;
  }
  QChartView::mouseReleaseEvent(event);
}

void ChartView::mouseDoubleClickEvent(QMouseEvent* event) {
  reset_zoom();
  event->accept();
}

void ChartView::keyPressEvent(QKeyEvent* event) {
  const QRectF area = chart()->plotArea();
  const double step_x = area.width() * kKeyPanFraction;
  const double step_y = area.height() * kKeyPanFraction;
  switch (event->key()) {
    case Qt::Key_Left:
      pan_by({-step_x, 0});
      break;
    case Qt::Key_Right:
      pan_by({step_x, 0});
      break;
    case Qt::Key_Up:
      pan_by({0, step_y});
      break;
    case Qt::Key_Down:
      pan_by({0, -step_y});
      break;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      zoom_by(kWheelZoomPerNotch);
      break;
    case Qt::Key_Minus:
      zoom_by(1 / kWheelZoomPerNotch);
      break;
    case Qt::Key_Home:
      reset_zoom();
      break;
    default:
      return QChartView::keyPressEvent(event);
  }
  event->accept();
}

void ChartView::toggle_series_of(QLegendMarker* marker) {
  if (auto* bar_marker = qobject_cast<QBarLegendMarker*>(marker)) {
    // A bar set cannot be hidden on its own: it turns transparent, keeping the other sets' bars in place.
    QBarSet* set = bar_marker->barset();
    const bool hide = !set->property("nmscope_hidden").toBool();
    if (hide) {
      set->setProperty("nmscope_color", set->color());
      set->setProperty("nmscope_border", set->borderColor());
      set->setProperty("nmscope_label", set->labelColor());
      set->setColor(Qt::transparent);
      set->setBorderColor(Qt::transparent);
      set->setLabelColor(Qt::transparent);
    } else {
      set->setColor(set->property("nmscope_color").value<QColor>());
      set->setBorderColor(set->property("nmscope_border").value<QColor>());
      set->setLabelColor(set->property("nmscope_label").value<QColor>());
    }
    set->setProperty("nmscope_hidden", hide);
    // The marker follows the set's colour; restore it before dimming so the legend still tells which set it was.
    if (hide) {
      marker->setBrush(set->property("nmscope_color").value<QColor>());
      marker->setPen(QPen(set->property("nmscope_border").value<QColor>()));
    }
    dim_marker(marker, hide);
    return;
  }
  QAbstractSeries* series = marker->series();
  // Lines grouped under one legend entry (SeriesStyles: one entry per colour) are shown and hidden together.
  QList<QAbstractSeries*> members = {series};
  if (const QVariant group = series->property(kLegendGroupProperty); group.isValid()) {
    members.clear();
    for (QAbstractSeries* other : chart()->series())
      if (other->property(kLegendGroupProperty) == group) members.append(other);
  }
  const bool show = !series->isVisible();
  for (QAbstractSeries* member : members) {
    member->setVisible(show);
    // Qt shows or hides a marker with its series: the group's other entries stay hidden, and the clicked one stays
    // to be clicked back on.
    for (QLegendMarker* other : chart()->legend()->markers(member)) other->setVisible(other == marker);
  }
  dim_marker(marker, !show);
}

void ChartView::show_point_text(QXYSeries* series, QPointF point, bool entered) {
  if (!entered || !point_text_) return QToolTip::hideText();
  // Hover reports a position on the series; the nearest point on screen is the one meant.
  const QPointF at = chart()->mapToPosition(point, series);
  int nearest = -1;
  double best = std::numeric_limits<double>::infinity();
  const QList<QPointF> points = series->points();
  for (int index = 0; index < points.size(); ++index) {
    const QPointF offset = chart()->mapToPosition(points[index], series) - at;
    const double distance = offset.x() * offset.x() + offset.y() * offset.y();
    if (distance < best) best = distance, nearest = index;
  }
  const QString text = nearest >= 0 ? point_text_(series, nearest) : QString();
  if (text.isEmpty()) return QToolTip::hideText();
  QToolTip::showText(QCursor::pos(), text, this);
}

void ChartView::show_bar_text(bool entered, int index, QBarSet* set) {
  const QString text = entered && bar_text_ ? bar_text_(set, index) : QString();
  if (text.isEmpty()) return QToolTip::hideText();
  QToolTip::showText(QCursor::pos(), text, this);
}

QSize ChartView::export_size() const { return isVisible() || testAttribute(Qt::WA_Resized) ? size() : QSize(960, 600); }

QSizeF ChartView::lay_out_for_export(QSizeF size) {
  const QSizeF previous = chart()->size();
  chart()->resize(size);
  if (chart()->layout()) chart()->layout()->activate();
  return previous;
}

void ChartView::render_to(QPainter& painter, const QRectF& target) {
  // Laid out at screen size (with the target's aspect ratio) and scaled to the target: a PDF page in device units
  // of 1200 dpi would otherwise get a 10000-pixel-wide layout with its fonts shrunk to specks.
  // A view that never had room of its own (a tab never opened) would be laid out a few hundred pixels wide, its
  // text then huge on the page: a report figure is laid out at least as wide as a typical window's chart.
  QSizeF layout_size = export_size();
  layout_size.setWidth(std::max(layout_size.width(), 1100.0));
  if (target.width() > 0 && target.height() > 0)
    layout_size.setHeight(layout_size.width() * target.height() / target.width());
  const QSizeF previous = lay_out_for_export(layout_size);
  message_->setVisible(!message_->text().isEmpty());
  scene()->render(&painter, target, chart()->sceneBoundingRect(), Qt::IgnoreAspectRatio);
  lay_out_for_export(previous);
}

bool ChartView::save(const QString& path, QString* error) {
  auto fail = [error](const QString& why) {
    if (error) *error = why;
    return false;
  };
  const QFileInfo info(path);
  const QString suffix = info.suffix().toLower();
  if (suffix != "png" && suffix != "svg") return fail("unknown image type '." + suffix + "' (use .png or .svg)");
  if (!info.absoluteDir().exists()) return fail("directory " + info.absolutePath() + " does not exist");
  const QSize size = export_size();
  QBuffer encoded;
  encoded.open(QIODevice::WriteOnly);
  if (suffix == "png") {
    // At least 2x: an export at 1x looks blurry on the high-DPI screens and projectors it ends up on.
    const qreal ratio = std::max<qreal>(2.0, devicePixelRatioF());
    QImage image(size * ratio, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(ratio);
    image.fill(Qt::white);
    {
      QPainter painter(&image);
      painter.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
      render_to(painter, QRectF(QPointF(0, 0), size));
    }
    QImageWriter writer(&encoded, "png");
    if (!writer.write(image)) return fail("cannot encode PNG: " + writer.errorString());
  } else {
    QSvgGenerator svg;
    svg.setOutputDevice(&encoded);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(chart()->title().isEmpty() ? "nmscope chart" : chart()->title());
    svg.setDescription("nmscope chart");
    QPainter painter;
    if (!painter.begin(&svg)) return fail("cannot start the SVG generator");
    painter.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    render_to(painter, QRectF(QPointF(0, 0), size));
    painter.end();
  }
  // Written aside and renamed into place: a failed save never leaves half an image behind.
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return fail("cannot write " + path + ": " + file.errorString());
  file.write(encoded.data());
  if (!file.commit()) return fail("cannot write " + path + ": " + file.errorString());
  return true;
}

}  // namespace nmscope::gui
