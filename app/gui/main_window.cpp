#include "main_window.hpp"

#include <QHeaderView>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>

#include "nmscope/results_store.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), results_model_(new ResultsModel(this)) {
  setWindowTitle("nmscope");
  auto* tabs = new QTabWidget;
  auto* table = new QTableView;
  table->setModel(results_model_);
  tabs->addTab(table, "Results");
  setCentralWidget(tabs);
  const std::string path = ResultsStore::default_path();
  results_model_->set_store(std::make_shared<ResultsStore>(path));
  statusBar()->showMessage(QString::fromStdString("Results database: " + path));
  resize(1280, 800);
}

MainWindow::~MainWindow() = default;

}  // namespace nmscope::gui
