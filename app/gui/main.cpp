// The desktop application's entry point. The full window (sources, study, results, charts, masks, reports) is the
// desktop-app issue; until then it shows what this build can measure and where results are kept.
#include <QApplication>
#include <QLabel>
#include <QListWidget>
#include <QMainWindow>
#include <QStatusBar>
#include <QVBoxLayout>

#include "nmscope/engine_registry.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/results_store.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("nmscope");
  QMainWindow window;
  window.setWindowTitle("nmscope");
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(new QLabel("Engines in this build (run studies with nmscope-cli run):"));
  auto* engines = new QListWidget;
  for (const auto& engine : nmscope::EngineRegistry::global().engines()) {
    const auto availability = engine->availability();
    engines->addItem(QString::fromStdString(engine->name() + (availability.available ? "" : "  (unavailable: " + availability.reason + ")")));
  }
  layout->addWidget(engines);
  window.setCentralWidget(central);
  window.statusBar()->showMessage(QString::fromStdString("Results database: " + nmscope::ResultsStore::default_path() +
                                                         "   |   " + nmscope::build_description()));
  window.resize(720, 420);
  window.show();
  return QApplication::exec();
}
