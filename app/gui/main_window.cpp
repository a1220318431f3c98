#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QShortcut>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <iostream>
#include <map>
#include <set>
#include <type_traits>

#include "charts/cycles_chart.hpp"
#include "charts/layer_error_chart.hpp"
#include "charts/model_accuracy_chart.hpp"
#include "charts/pareto_chart.hpp"
#include "charts/roofline_chart.hpp"
#include "charts/speedup_chart.hpp"
#include "cluster/cluster_run_dialog.hpp"
#include "decode/decode_view.hpp"
#include "masks/mask_heatmap.hpp"
#include "masks/mask_view.hpp"
#include "model/model_study_view.hpp"
#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/model.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/sweep_spec.hpp"
#include "nmscope/weight_source.hpp"
#include "reports/pdf_report.hpp"
#include "reports/report_summary.hpp"
#include "results/results_model.hpp"
#include "results/results_view.hpp"
#include "sources/sources_view.hpp"
#include "study/model_evaluation_dialog.hpp"
#include "study/study_panel.hpp"
#include "study/study_worker.hpp"
#include "sweep/sweep_view.hpp"

namespace nmscope::gui {

namespace {

constexpr int kMaxRecent = 8;

QString format_duration(double seconds) {
  if (seconds < 0) return "estimating…";
  if (seconds < 60) return QString("%1 s left").arg(seconds, 0, 'f', 0);
  return QString("%1 min %2 s left").arg(int(seconds) / 60).arg(int(seconds) % 60);
}

QDockWidget* make_dock(const QString& title, const QString& object_name, QWidget* content) {
  auto* dock = new QDockWidget(title);
  dock->setObjectName(object_name);
  dock->setWidget(content);
  return dock;
}

}  // namespace

MainWindow::MainWindow(const QString& database, QWidget* parent)
    : QMainWindow(parent),
      results_model_(new ResultsModel(this)),
      worker_(new StudyWorker(this)),
      sources_view_(new SourcesView),
      study_panel_(new StudyPanel),
      results_view_(new ResultsView(results_model_)),
      sweep_view_(new SweepView(results_model_)),
      mask_view_(new MaskView),
      model_study_view_(new ModelStudyView(results_model_)),
      decode_view_(new DecodeView(results_model_)),
      tabs_(new QTabWidget),
      log_(new QPlainTextEdit),
      database_label_(new QLabel),
      job_label_(new QLabel),
      overall_progress_(new QProgressBar),
      job_progress_(new QProgressBar),
      cancel_button_(new QPushButton("Cancel")) {
  setWindowTitle("nmscope");
  setObjectName("MainWindow");
  setAcceptDrops(true);
  setDockNestingEnabled(true);

  tabs_->setDocumentMode(true);
  tabs_->addTab(results_view_, "Results");
  auto* chart_tabs = chart_tabs_ = new QTabWidget;
  chart_tabs->setDocumentMode(true);
  const std::pair<ModelChart*, QString> charts[] = {
      {new ParetoChart(results_model_, nullptr), "Error vs storage"},
      {new SpeedupChart(results_model_, nullptr), "Speedup"},
      {new CyclesChart(results_model_, nullptr), "FPGA cycles"},
      {new RooflineChart(results_model_, nullptr), "FPGA roofline"},
      {new LayerErrorChart(results_model_, nullptr), "Error per layer"},
      {new ModelAccuracyChart(results_model_, nullptr), "Model accuracy"}};
  for (const auto& [chart, title] : charts) {
    charts_.push_back(chart);
    chart_tabs->addTab(chart, title);
  }
  tabs_->addTab(chart_tabs, "Charts");
  tabs_->addTab(model_study_view_, "Model study");
  tabs_->addTab(decode_view_, "Decode");
  tabs_->addTab(sweep_view_, "Sweep");
  tabs_->addTab(mask_view_, "Masks");
  setCentralWidget(tabs_);

  auto* sources_dock = make_dock("Sources", "SourcesDock", sources_view_);
  auto* study_dock = make_dock("Study", "StudyDock", study_panel_);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  auto* log_dock = make_dock("Log", "LogDock", log_);
  addDockWidget(Qt::LeftDockWidgetArea, sources_dock);
  addDockWidget(Qt::LeftDockWidgetArea, study_dock);
  addDockWidget(Qt::BottomDockWidgetArea, log_dock);
  resizeDocks({sources_dock, study_dock}, {320, 480}, Qt::Vertical);
  resizeDocks({sources_dock}, {380}, Qt::Horizontal);
  resizeDocks({log_dock}, {120}, Qt::Vertical);

  build_menus();
  build_status_bar();

  connect(worker_, &StudyWorker::progress, this, &MainWindow::on_progress);
  connect(worker_, &StudyWorker::measured, this, [this](const Measurement& row) { results_model_->append(row); });
  connect(worker_, &StudyWorker::skipped, this, [this](const QString& message) { log("skipped: " + message); });
  connect(worker_, &StudyWorker::failed, this, &MainWindow::show_error);
  connect(worker_, &StudyWorker::log_line, this, [this](const QString& line) { log(line); });
  connect(worker_, &StudyWorker::reproduced, this, [this](const QString& table, const QString& markdown) {
    reproduction_table_ = table;
    log(table);
    auto* box = new QMessageBox(QMessageBox::Information, "Reproduction of Hsieh et al. 2025", table,
                                QMessageBox::Ok, this);
    box->setDetailedText(markdown);
    box->setAttribute(Qt::WA_DeleteOnClose);
    QFont mono("monospace");
    mono.setStyleHint(QFont::TypeWriter);
    box->setFont(mono);
    box->open();
  });
  connect(worker_, &StudyWorker::model_evaluated, this, [this](const ModelEvaluationRecord& record) {
    results_model_->append_model_evaluation(record);
    log(QString("model study: %1 %2 %3 + %4 stored")
            .arg(QString::fromStdString(record.pattern.to_string()))
            .arg(QString::fromStdString(record.quant.bits_name()))
            .arg(QString::fromStdString(record.criterion), QString::fromStdString(record.quantizer)));
  });
  connect(worker_, &StudyWorker::finished, this, &MainWindow::on_finished);
  connect(results_view_, &ResultsView::selection_changed, this, [this](const QList<int>& rows) {
    for (ModelChart* chart : charts_) chart->set_rows(rows);
  });
  connect(sources_view_, &SourcesView::selection_changed, this, &MainWindow::update_sweep_layers);
  connect(study_panel_, &StudyPanel::changed, this, &MainWindow::update_sweep_layers);
  connect(sweep_view_, &SweepView::measure_requested, this, &MainWindow::measure_point);
  // The mask view loads and prunes whole layers: it follows the selection only while it is on screen.
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::sync_masks);
  connect(sources_view_, &SourcesView::selection_changed, this, &MainWindow::sync_masks);
  connect(mask_view_, &MaskView::failed, this, &MainWindow::show_error);
  connect(study_panel_, &StudyPanel::activations_changed, this, &MainWindow::load_activations_for_masks);
  connect(study_panel_, &StudyPanel::changed, this, [this] { mask_view_->set_quantization(study_panel_->quantization()); });

  QSettings settings;
  if (!restoreGeometry(settings.value("window/geometry").toByteArray())) resize(1440, 900);
  restoreState(settings.value("window/state").toByteArray());
  study_panel_->restore(settings);
  results_view_->restore(settings);
  refresh_recent_menu();
  const QString remembered = settings.value("database/path").toString();
  const QString chosen = !database.isEmpty() ? database
                         : !remembered.isEmpty() ? remembered
                                                 : QString::fromStdString(ResultsStore::default_path());
  if (!open_database(chosen) && chosen != QString::fromStdString(ResultsStore::default_path()))
    open_database(QString::fromStdString(ResultsStore::default_path()));
}

MainWindow::~MainWindow() = default;

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  QAction* open = file->addAction("&Open weights…", this, [this] {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, "Open weights", settings.value("files/last_folder").toString(),
                                                      "Weights (*.npy *.safetensors *.gguf);;All files (*)");
    if (!path.isEmpty()) open_source(path);
  });
  open->setShortcut(QKeySequence::Open);
  file->addAction("Open model &directory…", this, [this] {
    QSettings settings;
    const QString path = QFileDialog::getExistingDirectory(this, "Open a Hugging Face model directory",
                                                           settings.value("files/last_folder").toString());
    if (!path.isEmpty()) open_source(path);
  });
  file->addAction("Open &synthetic weights…", this, [this] { open_source("synth:llama-7b-block"); })
      ->setToolTip("LLaMA-7B-shaped synthetic layers with outlier channels (synth:llama-7b-block)");
  recent_menu_ = file->addMenu("Open &recent");
  file->addSeparator();
  file->addAction("Open results &database…", this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Open or create a results database", database_path(),
                                                      "Results databases (*.db);;All files (*)", nullptr,
                                                      QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty()) open_database(path);
  });
  file->addSeparator();
  QAction* csv = file->addAction("&Export CSV…", this, [this] {
    const bool selected = !results_view_->selected_rows().isEmpty();
    const QString path = QFileDialog::getSaveFileName(this, selected ? "Export the selected results" : "Export all results",
                                                      "nmscope-results.csv", "CSV (*.csv)");
    if (!path.isEmpty()) export_csv(path, selected);
  });
  csv->setShortcut(QKeySequence("Ctrl+E"));
  file->addAction("Export &PDF report…", this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Export a PDF report", "nmscope-report.pdf", "PDF (*.pdf)");
    if (!path.isEmpty()) export_pdf(path);
  });
  file->addSeparator();
  QAction* quit = file->addAction("&Quit", this, &QWidget::close);
  quit->setShortcut(QKeySequence("Ctrl+Q"));

  QMenu* study = menuBar()->addMenu("&Study");
  QAction* run = study->addAction("&Run", this, [this] { start_study(); });
  run->setShortcut(QKeySequence("Ctrl+R"));
  QAction* cancel = study->addAction("&Cancel", this, &MainWindow::cancel_study);
  cancel->setShortcut(QKeySequence(Qt::Key_Escape));
  cancel->setShortcutContext(Qt::ApplicationShortcut);
  study->addAction("&Evaluate model…", this, &MainWindow::evaluate_model)
      ->setToolTip("Compress a whole model per configuration and compare it with the dense model");
  study->addAction("Reproduce &hsieh2025", this, [this] { start_reproduction(); })
      ->setToolTip("The seed study's four figures (2:4 + INT4) measured on every engine, beside the paper's");
  study->addAction("Run on c&luster…", this, &MainWindow::run_on_cluster)
      ->setToolTip("Run the study as a sharded sweep on a Slurm cluster and merge the results here");
  study->addAction("Select all matrices", this, [this] { sources_view_->select_all_matrices(); });

  QMenu* view = menuBar()->addMenu("&View");
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addAction("Reload results", this, [this] { results_model_->reload(); });
}

void MainWindow::build_status_bar() {
  database_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  overall_progress_->setMaximumWidth(220);
  overall_progress_->setFormat("%v / %m");
  job_progress_->setMaximumWidth(90);
  job_progress_->setTextVisible(false);
  job_progress_->setToolTip("the measurement in progress");
  cancel_button_->setToolTip("Stop the study after the measurement in flight (Esc)");
  connect(cancel_button_, &QPushButton::clicked, this, &MainWindow::cancel_study);
  for (QWidget* widget : std::initializer_list<QWidget*>{overall_progress_, job_progress_, job_label_, cancel_button_}) widget->hide();
  statusBar()->addWidget(database_label_, 1);
  statusBar()->addPermanentWidget(job_label_);
  statusBar()->addPermanentWidget(job_progress_);
  statusBar()->addPermanentWidget(overall_progress_);
  statusBar()->addPermanentWidget(cancel_button_);
}

QString MainWindow::database_path() const { return store_ ? QString::fromStdString(store_->path()) : QString(); }

bool MainWindow::open_database(const QString& path) {
  if (worker_->is_running()) {
    show_error("A study is running: cancel it before switching the results database.");
    return false;
  }
  try {
    auto store = std::make_shared<ResultsStore>(path.toStdString());
    store_ = store;
    results_model_->set_store(store_);
    database_label_->setText("Results database: " + path + QString("  (%1 measurements)").arg(results_model_->rowCount()));
    QSettings().setValue("database/path", path);
    log("results database: " + path);
    return true;
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

bool MainWindow::open_source(const QString& location) {
  try {
    const auto source = sources_view_->open(location);
    log(QString("opened %1: %2 tensors").arg(location).arg(source->tensors().size()));
    remember_recent(location);
    if (QFileInfo(location).exists()) QSettings().setValue("files/last_folder", QFileInfo(location).absolutePath());
    return true;
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

bool MainWindow::start_study() {
  if (worker_->is_running()) return false;
  try {
    const StudySpec spec = study_panel_->spec(sources_view_->selected_tensors());
    QSettings settings;
    study_panel_->save(settings);
    log(QString("study: %1 tensor(s) x patterns %2 x bits %3 on %4")
            .arg(spec.tensors.size())
            .arg(study_panel_->patterns_text(), study_panel_->bits_text(),
                 QString::fromStdString(spec.engines)));
    overall_progress_->setRange(0, 0);
    job_progress_->setRange(0, 0);
    for (QWidget* widget : std::initializer_list<QWidget*>{overall_progress_, job_progress_, job_label_, cancel_button_}) widget->show();
    return worker_->start(spec, store_);
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

QStringList MainWindow::open_model_directories() const {
  QStringList models;
  const auto& sources = sources_view_->sources();
  for (auto source = sources.rbegin(); source != sources.rend(); ++source)
    if (is_model_path((*source)->location())) models.append(QString::fromStdString((*source)->location()));
  return models;
}

void MainWindow::evaluate_model() {
  if (worker_->is_running()) return;
  const QStringList models = open_model_directories();
  if (models.isEmpty())
    return show_error("Evaluate model: open a model directory (config.json + safetensors) first");
  const QuantConfig quant = study_panel_->quantization();
  const QString space = QString("patterns %1 × bits %2, scales %3%4")
                            .arg(study_panel_->patterns_text(), study_panel_->bits_text(),
                                 QString::fromStdString(quant.granularity_name()),
                                 quant.symmetric ? QString(", symmetric") : QString(", asymmetric"));
  ModelEvaluationDialog dialog(models, space, this);
  if (dialog.exec() != QDialog::Accepted) return;
  try {
    start_model_evaluation(dialog.spec());
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
  }
}

bool MainWindow::start_model_evaluation(ModelStudySpec spec) {
  if (worker_->is_running()) return false;
  try {
    // Patterns and bits as the Study pane lists them; the spec is validated by core before anything is stored.
    if (study_panel_->patterns_text().isEmpty())
      throw SettingError(Setting::Pattern, "choose at least one N:M pattern");
    if (study_panel_->bits_text().isEmpty()) throw SettingError(Setting::Bits, "choose at least one bit width");
    spec.patterns = NMPattern::parse_list(study_panel_->patterns_text().toStdString());
    spec.bits = QuantConfig::parse_bits_list(study_panel_->bits_text().toStdString());
    spec.quant = study_panel_->quantization();
    log(QString("model study: %1, patterns %2 x bits %3, evaluated on %4")
            .arg(QString::fromStdString(spec.model), study_panel_->patterns_text(), study_panel_->bits_text(),
                 QString::fromStdString(spec.evaluation)));
    overall_progress_->setRange(0, 0);
    job_progress_->setRange(0, 0);
    for (QWidget* widget : std::initializer_list<QWidget*>{overall_progress_, job_progress_, job_label_, cancel_button_}) widget->show();
    if (!worker_->start_model_study(spec, store_)) return false;
    running_kind_ = "model study";
    show_view("model");
    return true;
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

bool MainWindow::start_reproduction(const QStringList& families) {
  if (worker_->is_running()) return false;
  ReproductionOptions options;
  options.families.clear();
  for (const QString& family : families) options.families.push_back(family.toStdString());
  log("reproduce hsieh2025 on " + families.join(", ") +
      ": a 4096x4096 layer per engine, then LLaMA-7B decode steps on the CPU (minutes on a small machine)");
  overall_progress_->setRange(0, 0);
  job_progress_->setRange(0, 0);
  for (QWidget* widget : std::initializer_list<QWidget*>{overall_progress_, job_progress_, job_label_, cancel_button_}) widget->show();
  if (!worker_->start_reproduction(options, store_)) return false;
  running_kind_ = "reproduction";
  return true;
}

ClusterRunDialog* MainWindow::cluster_dialog() const { return cluster_dialog_; }

ClusterRunDialog* MainWindow::run_on_cluster() {
  QString spec_json;
  try {
    spec_json = QString::fromStdString(sweep_spec_json(study_panel_->spec(sources_view_->selected_tensors())));
  } catch (const std::exception& error) {
    show_error("Run on cluster: " + QString::fromUtf8(error.what()));
    return nullptr;
  }
  if (cluster_dialog_) cluster_dialog_->close();
  auto* dialog = new ClusterRunDialog(spec_json, database_path(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ClusterRunDialog::merged, this, [this](qint64 added, qint64 duplicates, qint64 conflicts) {
    log(QString("cluster sweep merged into %1: %2 added, %3 already there, %4 conflicts")
            .arg(database_path())
            .arg(added)
            .arg(duplicates)
            .arg(conflicts));
    results_model_->reload();
    database_label_->setText("Results database: " + database_path() +
                             QString("  (%1 measurements)").arg(results_model_->rowCount()));
  });
  cluster_dialog_ = dialog;
  dialog->show();
  return dialog;
}

void MainWindow::cancel_study() {
  if (!worker_->is_running()) return;
  worker_->cancel();
  job_label_->setText("cancelling…");
  log("cancel requested");
}

void MainWindow::on_progress(qint64 done, qint64 total, const QString& current, double eta_seconds) {
  overall_progress_->setRange(0, int(total));
  overall_progress_->setValue(int(done));
  job_label_->setText(current.isEmpty() ? QString() : current + "   " + format_duration(eta_seconds));
}

void MainWindow::on_finished(bool cancelled, qint64 measurements, qint64 skipped) {
  for (QWidget* widget : std::initializer_list<QWidget*>{overall_progress_, job_progress_, job_label_, cancel_button_}) widget->hide();
  const QString unit = running_kind_ == "study" ? "measurements" : running_kind_ == "model study" ? "configurations" : "figures";
  log(QString("%1 %2: %3 %4 stored, %5 skipped")
          .arg(running_kind_, cancelled ? "cancelled" : "finished")
          .arg(measurements)
          .arg(unit)
          .arg(skipped));
  // Model studies and reproductions store their rows in transactions of their own: read them back.
  if (running_kind_ != "study") results_model_->reload();
  running_kind_ = "study";
  database_label_->setText("Results database: " + database_path() + QString("  (%1 measurements)").arg(results_model_->rowCount()));
  results_view_->fit_columns();
  if (automation_waiting_for_study_) {
    automation_waiting_for_study_ = false;
    if (cancelled || skipped > 0) automation_exit_code_ = 1;
    QTimer::singleShot(0, this, &MainWindow::continue_automation);
  }
}

void MainWindow::update_sweep_layers() {
  std::vector<SweepLayer> layers;
  for (const SelectedTensor& tensor : sources_view_->selected_tensors()) {
    if (const TensorInfo* info = tensor.source->find(tensor.name)) layers.push_back({info->name, info->rows(), info->cols()});
  }
  sweep_view_->set_layers(layers);
  sweep_view_->set_quantization(study_panel_->quantization());
  try {
    sweep_view_->add_patterns(NMPattern::parse_list(study_panel_->patterns_text().toStdString()));
  } catch (const std::exception&) {
    // A pattern list still being typed: the slider keeps what it holds until the list parses.
  }
}

QStringList MainWindow::view_names() {
  return {"results", "charts", "pareto",      "speedup", "cycles", "roofline",
          "layers",  "model",  "model-study", "decode",  "sweep",  "masks"};
}

bool MainWindow::show_view(const QString& name) {
  const QStringList chart_names = {"pareto", "speedup", "cycles", "roofline", "layers", "model"};
  if (name == "results") {
    tabs_->setCurrentWidget(results_view_);
  } else if (name == "charts") {
    tabs_->setCurrentWidget(chart_tabs_);
  } else if (name == "model-study") {
    tabs_->setCurrentWidget(model_study_view_);
  } else if (name == "decode") {
    tabs_->setCurrentWidget(decode_view_);
  } else if (name == "sweep") {
    tabs_->setCurrentWidget(sweep_view_);
  } else if (name == "masks") {
    show_masks();
  } else if (chart_names.contains(name)) {
    tabs_->setCurrentWidget(chart_tabs_);
    chart_tabs_->setCurrentWidget(charts_[size_t(chart_names.indexOf(name))]);
  } else {
    return false;
  }
  return true;
}

void MainWindow::show_masks() {
  tabs_->setCurrentWidget(mask_view_);
  sync_masks();
}

void MainWindow::sync_masks() {
  if (tabs_->currentWidget() != mask_view_) return;
  load_masks_for_selection();
}

void MainWindow::prepare_masks_for_report() {
  if (mask_view_->current_layer().isEmpty() || !mask_view_->magnitude_selection()) load_masks_for_selection();
  // The report waits for the masks it shows (one layer, computed on the thread pool), at most a minute.
  QElapsedTimer waited;
  waited.start();
  while (mask_view_->is_busy() && waited.elapsed() < 60000)
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents, 20);
}

void MainWindow::load_masks_for_selection() {
  const auto selected = sources_view_->selected_tensors();
  std::shared_ptr<WeightSource> source;
  QString layer;
  if (!selected.empty()) {
    source = selected.front().source;
    layer = QString::fromStdString(selected.front().name);
  } else if (!sources_view_->sources().empty()) {
    source = sources_view_->sources().back();
  }
  if (!source) return;
  if (source != shown_mask_source_) {
    shown_mask_source_ = source;
    mask_view_->set_source(source);
  }
  if (!layer.isEmpty()) mask_view_->select_layer(layer);
}

void MainWindow::load_activations_for_masks(const QString& path) {
  if (path.isEmpty()) {
    mask_view_->set_activations(nullptr);
    return;
  }
  try {
    mask_view_->set_activations(std::make_shared<const MatrixF>(read_npy_matrix(path.toStdString())));
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
  }
}

void MainWindow::measure_point(const QString& pattern, int bits) {
  study_panel_->set_patterns(pattern);
  study_panel_->set_bits(QString::number(bits));
  // The point includes the sweep's array size: the FPGA engines (when checked) measure that array.
  const int dim = sweep_view_->current_array_dim();
  study_panel_->set_fpga_arrays(QString("%1x%1").arg(dim));
  start_study();
}

bool MainWindow::export_csv(const QString& path, bool selected_only) {
  try {
    std::vector<Measurement> rows;
    const QList<int> chosen = selected_only ? results_view_->selected_rows() : QList<int>();
    if (selected_only) {
      for (int row : chosen) rows.push_back(results_model_->measurement(row));
      write_measurements_csv(path.toStdString(), rows);
    } else {
      store_->export_csv(path.toStdString());
    }
    log(QString("exported %1 to %2").arg(selected_only ? QString("%1 selected rows").arg(rows.size()) : "all results", path));
    return true;
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

ReportContents MainWindow::report_contents() const {
  ReportContents contents;
  contents.date = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
  contents.host = QString::fromStdString(host_description());
  contents.build = QString::fromStdString(build_description());
  // The engines behind the figures: per family, how many variants can run here, and for those that cannot, one
  // line per reason (fourteen GPU variants without a GPU share one line).
  std::map<QString, int> available_by_family;
  std::map<std::pair<QString, QString>, int> unavailable;  // (family, reason) -> variants
  for (const auto& engine : EngineRegistry::global().engines()) {
    const QString name = QString::fromStdString(engine->name());
    const QString family = name.section('/', 0, 0);
    const Availability availability = engine->availability();
    if (availability.available)
      ++available_by_family[family];
    else
      ++unavailable[{family, QString::fromStdString(availability.reason)}];
  }
  QStringList available;
  for (const auto& [family, count] : available_by_family)
    available << QString("%1 (%2 variants)").arg(family).arg(count);
  contents.host += "\nEngines available: " + (available.isEmpty() ? QString("none") : available.join(", "));
  for (const auto& [family_reason, count] : unavailable)
    contents.unavailable << QString("%1 (%2 variant%3): %4")
                                .arg(family_reason.first)
                                .arg(count)
                                .arg(count == 1 ? "" : "s")
                                .arg(family_reason.second);
  for (const auto& source : sources_view_->sources()) contents.sources << QString::fromStdString(source->location());
  const QList<int> selected = results_view_->selected_rows();
  const QList<int> rows = selected.isEmpty() ? results_view_->visible_rows() : selected;
  for (int row : rows) contents.measurements.push_back(results_model_->measurement(row));
  contents.summary = summarize_for_report(contents.measurements);
  const QStringList titles = {"Error vs storage (Pareto front)",
                              "Speedup against the named baseline",
                              "FPGA figures vs array size",
                              "FPGA roofline (compute and memory roofs)",
                              "Error per layer",
                              "Whole-model accuracy vs storage"};
  Q_ASSERT(size_t(titles.size()) == charts_.size());
  for (size_t index = 0; index < charts_.size(); ++index) {
    ModelChart* chart = charts_[index];
    // A report of per-matrix studies has no page for an empty model chart.
    if (qobject_cast<ModelAccuracyChart*>(chart) && results_model_->model_evaluations().empty()) continue;
    contents.figures.push_back({titles[int(index)], [chart](QPainter& painter, const QRectF& area) { chart->render_to(painter, area); }});
  }
  if (!mask_view_->current_layer().isEmpty() && mask_view_->magnitude_selection()) {
    const QString pattern = QString::fromStdString(mask_view_->current_pattern().to_string());
    contents.thumbnails.push_back({mask_view_->current_layer() + " " + pattern + " magnitude",
                                   mask_view_->magnitude_heatmap()->grab().toImage()});
    if (mask_view_->compared_selection())
      contents.thumbnails.push_back({mask_view_->current_layer() + " " + pattern + " " +
                                         compared_criterion_name(mask_view_->compared_criterion()),
                                     mask_view_->compared_heatmap()->grab().toImage()});
  }
  std::set<std::string> tensors, patterns, engines;
  std::set<int> bits, batches;
  int64_t decode_rows = 0;
  for (const Measurement& m : contents.measurements) {
    // A decode-step row times a whole model's step: no tensor of its own.
    if (m.rows <= 0 || m.cols <= 0)
      ++decode_rows;
    else
      tensors.insert(m.tensor + " (" + std::to_string(m.rows) + "x" + std::to_string(m.cols) + ")");
    patterns.insert(m.pattern.to_string());
    bits.insert(m.quant.bits);
    if (m.engine != "none") engines.insert(m.engine);
    if (m.batch > 0) batches.insert(m.batch);
  }
  const auto joined = [](const auto& items) {
    QStringList texts;
    for (const auto& item : items) {
      if constexpr (std::is_same_v<std::decay_t<decltype(item)>, int>)
        texts << QString::number(item);
      else
        texts << QString::fromStdString(item);
    }
    return texts.isEmpty() ? QString("none") : texts.join(", ");
  };
  contents.configuration
      << QString("Tensors (%1): %2").arg(tensors.size()).arg(joined(tensors)) +
             (decode_rows > 0 ? QString("; and %1 decode-step rows").arg(decode_rows) : QString())
      << "Patterns: " + joined(patterns) + "; bits: " + joined(bits) + "; batches: " + joined(batches)
      << QString("Engines measured (%1): %2").arg(engines.size()).arg(joined(engines))
      << "Results database: " + database_path()
      << QString("Rows in this report: %1 (%2)").arg(rows.size()).arg(selected.isEmpty() ? "all shown" : "selected");
  return contents;
}

bool MainWindow::export_pdf(const QString& path) {
  try {
    prepare_masks_for_report();
    write_pdf_report(path, report_contents());
    log("wrote PDF report " + path);
    return true;
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
    return false;
  }
}

bool MainWindow::save_screenshot(const QString& path) {
  const QPixmap pixmap = grab();
  if (pixmap.isNull() || !pixmap.save(path)) {
    show_error(path + ": cannot write the screenshot");
    return false;
  }
  log("saved screenshot " + path);
  return true;
}

void MainWindow::show_error(const QString& message) {
  log("error: " + message);
  if (automation_) {
    // Automation has nobody to click a dialog away: the message goes to stderr and the exit status says it failed.
    std::cerr << "nmscope: " << message.toStdString() << std::endl;
    automation_exit_code_ = 1;
    return;
  }
  if (error_dialog_) error_dialog_->close();
  error_dialog_ = new QMessageBox(QMessageBox::Warning, "nmscope", message, QMessageBox::Ok, this);
  error_dialog_->setAttribute(Qt::WA_DeleteOnClose);
  error_dialog_->open();  // window-modal and non-blocking: the event loop (and a running study) carries on
}

void MainWindow::log(const QString& message) {
  log_->appendPlainText(QTime::currentTime().toString("HH:mm:ss  ") + message);
}

void MainWindow::remember_recent(const QString& location) {
  QSettings settings;
  QStringList recent = settings.value("files/recent").toStringList();
  recent.removeAll(location);
  recent.prepend(location);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue("files/recent", recent);
  refresh_recent_menu();
}

void MainWindow::refresh_recent_menu() {
  if (!recent_menu_) return;
  recent_menu_->clear();
  const QStringList recent = QSettings().value("files/recent").toStringList();
  for (const QString& location : recent) recent_menu_->addAction(location, this, [this, location] { open_source(location); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (worker_->is_running()) {
    worker_->cancel();  // the destructor waits for the measurement in flight; nothing half-written is stored
  }
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  study_panel_->save(settings);
  results_view_->save(settings);
  QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) open_source(url.toLocalFile());
  event->acceptProposedAction();
}

void MainWindow::run_automation(const AutomationSteps& steps) {
  automation_ = std::make_unique<AutomationSteps>(steps);
  automation_exit_code_ = 0;
  if (!steps.database.isEmpty() && !open_database(steps.database)) automation_exit_code_ = 1;
  for (const QString& location : steps.load) open_source(location);
  if (!steps.tensors.isEmpty()) {
    const QStringList missing = sources_view_->select_tensors(steps.tensors);
    for (const QString& name : missing) show_error(name + ": no such tensor in the loaded sources");
  } else {
    sources_view_->select_all_matrices();
  }
  try {
    if (!steps.patterns.isEmpty()) study_panel_->set_patterns(steps.patterns);
    if (!steps.bits.isEmpty()) study_panel_->set_bits(steps.bits);
    if (!steps.engines.isEmpty()) study_panel_->set_engines(steps.engines);
    if (steps.mask_criterion == "wanda" || steps.mask_criterion == "sparsegpt")
      mask_view_->set_compared_criterion(steps.mask_criterion == "wanda" ? ComparedCriterion::Wanda
                                                                         : ComparedCriterion::SparseGPT);
    else if (!steps.mask_criterion.isEmpty())
      throw Error("--mask-criterion", "'" + steps.mask_criterion.toStdString() + "' is not wanda or sparsegpt");
  } catch (const std::exception& error) {
    show_error(QString::fromUtf8(error.what()));
  }
  if (steps.run && automation_exit_code_ == 0) return start_automation_study(start_study());
  if (!steps.model_eval.isEmpty() && automation_exit_code_ == 0) {
    const QStringList models = open_model_directories();
    if (models.isEmpty()) {
      show_error("--model-eval: no model directory was loaded (--load DIR)");
    } else {
      ModelEvaluationDialog choices(models, {}, this);
      try {
        choices.set_evaluation(steps.model_eval);
        if (!steps.model_criteria.isEmpty()) choices.set_criteria(steps.model_criteria.split(','));
        return start_automation_study(start_model_evaluation(choices.spec()));
      } catch (const std::exception& error) {
        show_error(QString::fromUtf8(error.what()));
      }
    }
  }
  QTimer::singleShot(0, this, &MainWindow::continue_automation);
}

void MainWindow::start_automation_study(bool started) {
  automation_waiting_for_study_ = started;  // continue_automation() then runs when the study has finished
  if (!started) {
    automation_exit_code_ = 1;
    QTimer::singleShot(0, this, &MainWindow::continue_automation);
  }
}

void MainWindow::continue_automation() {
  const AutomationSteps steps = *automation_;
  if (!steps.view.isEmpty()) {
    if (!show_view(steps.view)) {
      show_error("--view: unknown view '" + steps.view + "' (" + view_names().join(", ") + ")");
    } else if (steps.view == "masks") {
      // The masks are computed in the background: wait for them before the screenshot.
      if (mask_view_->is_busy()) {
        QTimer::singleShot(50, this, &MainWindow::continue_automation);
        return;
      }
    }
    automation_->view.clear();
    // Qt Charts lays a chart out in later events: let the newly shown view settle before exports and the screenshot.
    QTimer::singleShot(200, this, &MainWindow::continue_automation);
    return;
  }
  if (!steps.export_csv.isEmpty() && !export_csv(steps.export_csv)) automation_exit_code_ = 1;
  if (!steps.export_pdf.isEmpty() && !export_pdf(steps.export_pdf)) automation_exit_code_ = 1;
  if (!steps.screenshot.isEmpty() && !save_screenshot(steps.screenshot)) automation_exit_code_ = 1;
  const int exit_code = automation_exit_code_;
  automation_.reset();
  emit automation_finished(exit_code);
  if (steps.quit) {
    close();
    QApplication::exit(exit_code);
  }
}

}  // namespace nmscope::gui
