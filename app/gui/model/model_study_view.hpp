#pragma once
// The Model view (issue 9): one model study (`nmscope-cli model`) at a glance. A layer table, block x role, shows one
// per-layer figure (error, SQNR, bits per weight, time) of one configuration, shaded by value; stacked bars give the
// storage and the per-token time of every configuration split by role; lines give the per-token time of each engine
// against batch size. Everything comes from the study's model_rollups and per-layer rows in the results database.
#include <QList>
#include <QWidget>
#include <vector>

#include "charts/series_styles.hpp"
#include "nmscope/model_rollup.hpp"

class QComboBox;
class QLabel;
class QLineSeries;
class QHorizontalStackedBarSeries;
class QTableWidget;

namespace nmscope::gui {

class ChartView;
class ResultsModel;

class ModelStudyView final : public QWidget {
  Q_OBJECT

 public:
  enum class LayerFigure { WeightError, OutputError, Sqnr, BitsPerWeight, TimeUs };

  explicit ModelStudyView(ResultsModel* model, QWidget* parent = nullptr);

  // The study shown (newest first in the chooser); false when the database has no rollup of that id.
  bool set_study(const QString& study_id);
  QString current_study() const;
  void set_layer_figure(LayerFigure figure);

  // What is on screen, for tests.
  QTableWidget* layer_table() const { return table_; }
  QHorizontalStackedBarSeries* storage_bars() const { return storage_bars_; }
  QHorizontalStackedBarSeries* time_bars() const { return time_bars_; }
  QList<QLineSeries*> per_token_lines() const { return per_token_lines_; }
  ChartView* storage_view() const { return storage_view_; }
  ChartView* time_view() const { return time_view_; }
  ChartView* batch_view() const { return batch_view_; }
  QString note() const;

 private:
  // A unit of a bar chart's value axis: its name and its size in the values' own unit (bytes, µs).
  struct AxisUnit {
    QString name;
    double size = 1;
  };
  void refill_studies();
  void rebuild();
  void fill_layer_table(const std::vector<const ModelRollupRow*>& rows);
  void fill_bars(const std::vector<const ModelRollupRow*>& rows);
  void fill_batch_lines(const std::vector<const ModelRollupRow*>& rows);

  ResultsModel* model_;
  QComboBox* study_choice_;
  QComboBox* config_choice_;
  QComboBox* figure_choice_;
  QComboBox* timing_choice_;  // engine and batch of the time bars
  QTableWidget* table_;
  ChartView* storage_view_;
  ChartView* time_view_;
  ChartView* batch_view_;
  QLabel* note_;
  QHorizontalStackedBarSeries* storage_bars_ = nullptr;
  QHorizontalStackedBarSeries* time_bars_ = nullptr;
  QList<QLineSeries*> per_token_lines_;
  SeriesStyles batch_styles_;  // colour per configuration, dash per engine
  QString batch_dashes_;       // what the dashes mean, for the note
  LayerFigure figure_ = LayerFigure::WeightError;
};

}  // namespace nmscope::gui
