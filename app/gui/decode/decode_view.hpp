#pragma once
// The Decode view (issue 9): the decoder-step rows of one run (`nmscope-cli decode --db FILE`, `reproduce hsieh2025`)
// at a glance. Per engine variant, the time of one step (ms per token of each sequence) and the tokens/s against
// batch size on log-x axes; a table with every row's figures, its speedup against the dense baseline of its family at
// the same batch and context, the model's weight bytes, the logits' error against the reference path and, when the
// GPU trace ran, the kernel-time breakdown of a step. The model (preset or directory) and the context head the view.
// Everything comes from the results database (decode_measurement.hpp reads the rows back).
#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineSeries;
class QTableWidget;

namespace nmscope::gui {

class ChartView;
class ResultsModel;

class DecodeView final : public QWidget {
  Q_OBJECT

 public:
  // The table's columns, in order.
  enum Column {
    Engine,
    Batch,
    Context,
    MsPerStep,
    TokensPerS,
    Speedup,
    Weights,
    VsFp16,
    LogitsError,
    Top1,
    Kernels,
    ColumnCount
  };

  explicit DecodeView(ResultsModel* model, QWidget* parent = nullptr);

  // The run shown (newest first in the chooser); false when the database has no decode row of that study id.
  bool set_study(const QString& study_id);
  QString current_study() const;

  // What is on screen, for tests.
  QTableWidget* table() const { return table_; }
  QList<QLineSeries*> ms_lines() const { return ms_lines_; }
  QList<QLineSeries*> tokens_lines() const { return tokens_lines_; }
  ChartView* ms_view() const { return ms_view_; }
  ChartView* tokens_view() const { return tokens_view_; }
  QString heading() const;
  QString note() const;

 private:
  void refill_studies();
  void rebuild();

  ResultsModel* model_;
  QComboBox* study_choice_;
  QLabel* heading_;
  QTableWidget* table_;
  ChartView* ms_view_;
  ChartView* tokens_view_;
  QLabel* note_;
  QList<QLineSeries*> ms_lines_;
  QList<QLineSeries*> tokens_lines_;
};

}  // namespace nmscope::gui
