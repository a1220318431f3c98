#pragma once
// The window is a frame: it hosts the small views (sources, study, results, charts, sweep, masks, log) and wires
// them to one results model and one study worker. It owns no measurement logic.
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <memory>

#include "nmscope/model_study.hpp"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace nmscope {
class ResultsStore;
class WeightSource;
}

namespace nmscope::gui {

class ClusterRunDialog;
class MaskView;
class ModelStudyView;
class DecodeView;
class ModelChart;
class ResultsModel;
class ResultsView;
class SourcesView;
class StudyPanel;
class StudyWorker;
class SweepView;
struct ReportContents;

// The automation contract (`nmscope --load ... --quit`): steps done through the real window, in this order.
struct AutomationSteps {
  QStringList load;
  QStringList tensors;
  QString patterns;
  QString bits;
  QString engines;
  QString database;
  bool run = false;
  QString export_csv;
  QString export_pdf;
  QString screenshot;
  QString mask_criterion;  // the Masks tab's right-hand criterion: wanda or sparsegpt
  QString model_eval;      // evaluate the open model directory on these token ids (.npy) and wait for it
  QString model_criteria;  // its criteria, e.g. magnitude,sparsegpt (default: all three)
  QString view;            // the tab to show before the screenshot: one of MainWindow::view_names()
  bool quit = false;
};

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  // `database` empty: the one remembered in the settings, else the default location.
  explicit MainWindow(const QString& database = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Each action the menus offer, callable directly (automation and tests). Failures go to show_error().
  bool open_source(const QString& location);
  bool open_database(const QString& path);
  bool start_study();
  // Study > Evaluate model…: the dialog, then start_model_evaluation().
  void evaluate_model();
  // Starts a whole-model study on `spec` with the Study pane's patterns, bits and quantization grid; false (and an
  // error dialog) when the spec is refused or a study is running.
  bool start_model_evaluation(ModelStudySpec spec);
  // Study > Reproduce hsieh2025: the seed study's figures on these engine families (cpu, gpu, fpga); the table opens
  // in a dialog and goes to the log; the rows go to the database.
  bool start_reproduction(const QStringList& families = {"cpu", "gpu", "fpga"});
  // Study > Run on cluster…: the current study (Study pane + selected tensors) as a sweep in the dialog, which
  // writes or submits the Slurm jobs and merges their results into the open database. Null (and an error dialog)
  // when the study is incomplete.
  ClusterRunDialog* run_on_cluster();
  ClusterRunDialog* cluster_dialog() const;
  // The last reproduction's table ("" before one has finished).
  QString reproduction_table() const { return reproduction_table_; }
  // The open sources that are model directories, newest first.
  QStringList open_model_directories() const;
  void cancel_study();
  bool export_csv(const QString& path, bool selected_only = false);
  bool export_pdf(const QString& path);
  bool save_screenshot(const QString& path);
  // Runs the automation steps; emits automation_finished(exit code) when done (0: every step succeeded).
  void run_automation(const AutomationSteps& steps);

  ResultsModel* results_model() const { return results_model_; }
  ResultsView* results_view() const { return results_view_; }
  SourcesView* sources_view() const { return sources_view_; }
  StudyPanel* study_panel() const { return study_panel_; }
  StudyWorker* study_worker() const { return worker_; }
  SweepView* sweep_view() const { return sweep_view_; }
  MaskView* mask_view() const { return mask_view_; }
  ModelStudyView* model_study_view() const { return model_study_view_; }
  DecodeView* decode_view() const { return decode_view_; }
  // Shows the Masks tab on the first selected tensor (or the first matrix of the newest source).
  void show_masks();
  // Brings a view to the front by name (one of view_names(), as AutomationSteps::view); false for an unknown name.
  bool show_view(const QString& name);
  // What --view accepts: the main tabs, "charts" (the chart tabs as last shown) and each chart by name.
  static QStringList view_names();
  QTabWidget* tabs() const { return tabs_; }
  // The charts, in tab order: Pareto (error vs storage), speedup, FPGA cycles, error per layer, model accuracy.
  const std::vector<ModelChart*>& charts() const { return charts_; }
  QPlainTextEdit* log_view() const { return log_; }
  // The error dialog currently shown (null when none): bad files and failures open one, nothing else changes.
  QMessageBox* error_dialog() const { return error_dialog_; }
  QString database_path() const;

 signals:
  void automation_finished(int exit_code);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void build_menus();
  void build_status_bar();
  void show_error(const QString& message);
  void log(const QString& message);
  void remember_recent(const QString& location);
  void refresh_recent_menu();
  void on_progress(qint64 done, qint64 total, const QString& current, double eta_seconds);
  void on_finished(bool cancelled, qint64 measurements, qint64 skipped);
  void update_sweep_layers();
  void sync_masks();
  // Shows the first selected tensor (or the newest source's first matrix) in the Masks tab, visible or not.
  void load_masks_for_selection();
  // The report shows the masks of the selection even when the Masks tab was never opened: compute them first.
  void prepare_masks_for_report();
  void load_activations_for_masks(const QString& path);
  void measure_point(const QString& pattern, int bits);
  ReportContents report_contents() const;
  void continue_automation();
  void start_automation_study(bool started);

  ResultsModel* results_model_;
  std::shared_ptr<ResultsStore> store_;
  StudyWorker* worker_;
  SourcesView* sources_view_;
  StudyPanel* study_panel_;
  ResultsView* results_view_;
  SweepView* sweep_view_;
  MaskView* mask_view_;
  ModelStudyView* model_study_view_;
  DecodeView* decode_view_;
  QTabWidget* tabs_;
  QTabWidget* chart_tabs_ = nullptr;
  // What the worker runs: "study" (rows arrive one by one), "model study" or "reproduction" (their rows are
  // read back from the database when they end).
  QString running_kind_ = "study";
  QString reproduction_table_;
  std::vector<ModelChart*> charts_;
  QPlainTextEdit* log_;
  QLabel* database_label_;
  QLabel* job_label_;
  QProgressBar* overall_progress_;
  QProgressBar* job_progress_;
  QPushButton* cancel_button_;
  QMenu* recent_menu_ = nullptr;
  QPointer<QMessageBox> error_dialog_;
  QPointer<ClusterRunDialog> cluster_dialog_;
  std::shared_ptr<WeightSource> shown_mask_source_;
  std::unique_ptr<AutomationSteps> automation_;
  int automation_exit_code_ = 0;
  bool automation_waiting_for_study_ = false;
};

}  // namespace nmscope::gui
