// nmscope: the desktop application. With automation options it performs the steps through the real window
// (the contract tests, scripts and reviewers rely on):
//   nmscope --load PATH [--tensor NAME]... [--pattern LIST] [--bits LIST] [--engines LIST|none] [--run]
//           [--export-csv OUT.csv] [--export-pdf OUT.pdf] [--screenshot OUT.png] [--quit] [--db FILE] [--view NAME]
//           [--mask-criterion wanda|sparsegpt] [--model-eval IDS.npy [--model-criteria LIST]]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "main_window.hpp"
#include "nmscope/host_info.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("nmscope");
  QApplication::setOrganizationName("nmscope");
  QApplication::setApplicationVersion(QString::fromStdString(nmscope::nmscope_version()));

  QCommandLineParser parser;
  parser.setApplicationDescription("Design-space exploration of N:M structured-sparse, low-bit-quantized matmul");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption load("load", "Open weights (file, model directory or synth: spec); repeatable.", "PATH");
  const QCommandLineOption tensor("tensor", "Select a tensor (repeatable; default every matrix).", "NAME");
  const QCommandLineOption pattern("pattern", "N:M patterns, e.g. dense,2:4,1:4.", "LIST");
  const QCommandLineOption bits("bits", "Bit widths, e.g. 16,8,4.", "LIST");
  const QCommandLineOption engines("engines", "Engine variants or families, or none.", "LIST");
  const QCommandLineOption database("db", "Results database to open.", "FILE");
  const QCommandLineOption run("run", "Run the study and wait for it.");
  const QCommandLineOption csv("export-csv", "Export the results to CSV.", "OUT.csv");
  const QCommandLineOption pdf("export-pdf", "Export a PDF report.", "OUT.pdf");
  const QCommandLineOption screenshot("screenshot", "Save a screenshot of the window.", "OUT.png");
  const QCommandLineOption view("view", "Tab to show: results, pareto, speedup, cycles, layers, model, model-study, decode, sweep, masks.", "NAME");
  const QCommandLineOption mask_criterion("mask-criterion", "Masks tab: compare magnitude with wanda or sparsegpt.",
                                          "NAME");
  const QCommandLineOption model_eval("model-eval", "Evaluate the loaded model directory on token ids (.npy).",
                                      "IDS.npy");
  const QCommandLineOption model_criteria("model-criteria", "Criteria of --model-eval, e.g. magnitude,sparsegpt.",
                                          "LIST");
  const QCommandLineOption quit("quit", "Quit when the steps are done (exit status 1 if any failed).");
  parser.addOptions({load, tensor, pattern, bits, engines, database, run, csv, pdf, screenshot, view, mask_criterion, model_eval, model_criteria, quit});
  parser.process(app);

  nmscope::gui::MainWindow window(parser.value(database));
  window.show();
  const bool automated = parser.isSet(load) || parser.isSet(model_eval) || parser.isSet(run) || parser.isSet(csv) || parser.isSet(pdf) ||
                         parser.isSet(screenshot) || parser.isSet(quit);
  if (automated) {
    nmscope::gui::AutomationSteps steps;
    steps.load = parser.values(load);
    steps.tensors = parser.values(tensor);
    steps.patterns = parser.value(pattern);
    steps.bits = parser.value(bits);
    steps.engines = parser.value(engines);
    steps.run = parser.isSet(run);
    steps.export_csv = parser.value(csv);
    steps.export_pdf = parser.value(pdf);
    steps.screenshot = parser.value(screenshot);
    steps.view = parser.value(view);
    steps.mask_criterion = parser.value(mask_criterion);
    steps.model_eval = parser.value(model_eval);
    steps.model_criteria = parser.value(model_criteria);
    steps.quit = parser.isSet(quit);
    // After the first paint, so a screenshot shows the window as a user sees it.
    QTimer::singleShot(0, &window, [&window, steps] { window.run_automation(steps); });
  }
  return QApplication::exec();
}
