// nmscope: the desktop application. With automation options it performs the steps through the real window
// (the contract tests, scripts and reviewers rely on; command_line.hpp lists them):
//   nmscope --load PATH [--tensor NAME]... [--pattern LIST] [--bits LIST] [--engines LIST|none] [--run]
//           [--export-csv OUT.csv] [--export-pdf OUT.pdf] [--screenshot OUT.png] [--quit] [--db FILE] [--view NAME]
//           [--mask-criterion wanda|sparsegpt] [--model-eval IDS.npy [--model-criteria LIST]]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstring>
#include <memory>

#include "command_line.hpp"
#include "main_window.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/openmp_policy.hpp"

namespace {

// --help and --version print and exit: they must work over ssh or in a script, where QApplication would abort for
// want of a display, so they are answered by a QCoreApplication before any window system is touched.
bool asks_only_for_information(int argc, char** argv) {
  for (int index = 1; index < argc; ++index) {
    for (const char* flag : {"-h", "--help", "-?", "--help-all", "-v", "--version"})
      if (std::strcmp(argv[index], flag) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else: the oneDNN baseline's OpenMP threads must not spin beside the engines it is timed with.
  nmscope::restart_with_passive_openmp(argv);
  std::unique_ptr<QCoreApplication> app;
  if (asks_only_for_information(argc, argv))
    app = std::make_unique<QCoreApplication>(argc, argv);
  else
    app = std::make_unique<QApplication>(argc, argv);
  QCoreApplication::setApplicationName("nmscope");
  QCoreApplication::setOrganizationName("nmscope");
  QCoreApplication::setApplicationVersion(QString::fromStdString(nmscope::nmscope_version()));

  QCommandLineParser parser;
  nmscope::gui::add_command_line_options(parser);
  parser.process(*app);

  nmscope::gui::MainWindow window(parser.value("db"));
  window.show();
  if (const auto steps = nmscope::gui::automation_steps(parser)) {
    // After the first paint, so a screenshot shows the window as a user sees it.
    QTimer::singleShot(0, &window, [&window, steps = *steps] { window.run_automation(steps); });
  }
  return QApplication::exec();
}
