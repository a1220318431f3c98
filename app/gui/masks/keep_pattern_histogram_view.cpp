#include "masks/keep_pattern_histogram_view.hpp"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QValueAxis>
#include <algorithm>
#include <numeric>

namespace nmscope::gui {

KeepPatternHistogramView::KeepPatternHistogramView(QWidget* parent) : QChartView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(260);  // room for rotated 8-bit labels under the bars
  chart()->legend()->setAlignment(Qt::AlignRight);
  clear();
}

QString KeepPatternHistogramView::mask_label(uint32_t mask, int group_size) {
  QString label(group_size, '0');
  for (int position = 0; position < group_size; ++position)
    if (mask & (uint32_t(1) << position)) label[position] = '1';
  return label;
}

void KeepPatternHistogramView::set_histograms(std::optional<KeepPatternHistogram> magnitude,
                                              std::optional<KeepPatternHistogram> compared,
                                              const QString& compared_label) {
  QChart* chart = this->chart();
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  categories_.clear();
  bar_set_count_ = 0;
  const KeepPatternHistogram* reference = magnitude ? &*magnitude : compared ? &*compared : nullptr;
  if (!reference) {
    chart->setTitle("Keep patterns: choose a layer");
    return;
  }
  if (magnitude && compared && magnitude->masks != compared->masks) {
    // Only occurring masks are listed for large pattern spaces; merge the two lists so the bars line up.
    std::vector<uint32_t> all = magnitude->masks;
    all.insert(all.end(), compared->masks.begin(), compared->masks.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    for (auto* histogram : {&*magnitude, &*compared}) {
      std::vector<int64_t> counts(all.size(), 0);
      for (size_t index = 0; index < histogram->masks.size(); ++index)
        counts[size_t(std::lower_bound(all.begin(), all.end(), histogram->masks[index]) - all.begin())] =
            histogram->counts[index];
      histogram->masks = all;
      histogram->counts = std::move(counts);
    }
  }

  // Shown bars: every mask when they fit, else the most frequent over both criteria, back in mask order.
  const size_t mask_count = reference->masks.size();
  std::vector<size_t> shown(mask_count);
  std::iota(shown.begin(), shown.end(), 0);
  const auto total_at = [&](size_t index) {
    return (magnitude ? magnitude->counts[index] : 0) + (compared ? compared->counts[index] : 0);
  };
  if (mask_count > size_t(kMaxBars)) {
    std::stable_sort(shown.begin(), shown.end(), [&](size_t a, size_t b) { return total_at(a) > total_at(b); });
    shown.resize(size_t(kMaxBars));
    std::sort(shown.begin(), shown.end());
  }

  auto* series = new QBarSeries;
  int64_t largest = 0;
  const auto add_set = [&](const std::optional<KeepPatternHistogram>& histogram, const QString& name,
                           const QColor& colour) {
    if (!histogram) return;
    auto* set = new QBarSet(name);
    set->setColor(colour);
    set->setBorderColor(colour);
    for (const size_t index : shown) {
      *set << double(histogram->counts[index]);
      largest = std::max(largest, histogram->counts[index]);
    }
    series->append(set);
    ++bar_set_count_;
  };
  add_set(magnitude, "magnitude", QColor(0x1f, 0x77, 0xb4));
  add_set(compared, compared_label, QColor(0xd6, 0x27, 0x28));
  for (const size_t index : shown) categories_ << mask_label(reference->masks[index], reference->group_size);
  chart->addSeries(series);

  auto* x_axis = new QBarCategoryAxis;
  x_axis->append(categories_);
  if (categories_.size() > 12) x_axis->setLabelsAngle(-90);
  x_axis->setTruncateLabels(false);  // an elided bit string says nothing
  QFont label_font = x_axis->labelsFont();
  label_font.setFamily("monospace");
  x_axis->setLabelsFont(label_font);
  auto* y_axis = new QValueAxis;
  y_axis->setRange(0, std::max<double>(1.0, double(largest) * 1.05));
  y_axis->applyNiceNumbers();
  y_axis->setLabelFormat(largest < 1000000 ? "%.0f" : "%.3g");
  y_axis->setTitleText("groups");
  chart->addAxis(x_axis, Qt::AlignBottom);
  chart->addAxis(y_axis, Qt::AlignLeft);
  series->attachAxis(x_axis);
  series->attachAxis(y_axis);

  const int64_t possible = keep_pattern_count(reference->kept_per_group, reference->group_size);
  QString title = QString("Keep patterns of %1:%2 over full groups (C(%2,%1) = %3)")
                      .arg(reference->kept_per_group)
                      .arg(reference->group_size)
                      .arg(possible);
  if (shown.size() < mask_count) title += QString(": the %1 most frequent of %2").arg(shown.size()).arg(mask_count);
  chart->setTitle(title);
}

}  // namespace nmscope::gui
