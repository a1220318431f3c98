#pragma once
// The window is a frame: it hosts the small views (sources, study, results, charts, sweep, masks, log) and wires
// them to one results model and one study worker. It owns no measurement logic.
#include <QMainWindow>
#include <memory>

namespace nmscope::gui {

class ResultsModel;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  ResultsModel* results_model() const { return results_model_; }

 private:
  ResultsModel* results_model_;
};

}  // namespace nmscope::gui
