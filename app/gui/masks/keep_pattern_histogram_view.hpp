#pragma once
// Which of the C(M,N) keep-patterns occur, as bars per criterion (core's keep_pattern_histogram). A pattern is
// labelled by its bits with position 0 first: "1100" keeps the first two weights of a group of four.
#include <QChartView>
#include <QStringList>
#include <optional>

#include "nmscope/mask_statistics.hpp"

namespace nmscope::gui {

class KeepPatternHistogramView final : public QChartView {
  Q_OBJECT

 public:
  // More bars than this are unreadable: the most frequent ones are shown, in mask order, and the title says so.
  static constexpr int kMaxBars = 48;

  explicit KeepPatternHistogramView(QWidget* parent = nullptr);

  // Either histogram may be absent (no second mask); both present must be of one pattern. `compared_label` names
  // the second criterion in the legend.
  void set_histograms(std::optional<KeepPatternHistogram> magnitude, std::optional<KeepPatternHistogram> compared,
                      const QString& compared_label = "wanda");
  void clear() { set_histograms(std::nullopt, std::nullopt); }

  // What is on screen, for tests: the bar labels and the number of bar sets (criteria).
  QStringList categories() const { return categories_; }
  int bar_set_count() const { return bar_set_count_; }

  static QString mask_label(uint32_t mask, int group_size);

 private:
  QStringList categories_;
  int bar_set_count_ = 0;
};

}  // namespace nmscope::gui
