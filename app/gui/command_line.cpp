#include "command_line.hpp"

namespace nmscope::gui {

void add_command_line_options(QCommandLineParser& parser) {
  parser.setApplicationDescription("Design-space exploration of N:M structured-sparse, low-bit-quantized matmul");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({
      {"load", "Open weights (file, model directory or synth: spec); repeatable.", "PATH"},
      {"tensor", "Select a tensor (repeatable; default every matrix).", "NAME"},
      {"pattern", "N:M patterns, e.g. dense,2:4,1:4.", "LIST"},
      {"bits", "Bit widths, e.g. 16,8,4.", "LIST"},
      {"engines", "Engine variants or families, or none.", "LIST"},
      {"db", "Results database to open.", "FILE"},
      {"run", "Run the study and wait for it."},
      {"export-csv", "Export the results to CSV.", "OUT.csv"},
      {"export-pdf", "Export a PDF report.", "OUT.pdf"},
      {"screenshot", "Save a screenshot of the window.", "OUT.png"},
      {"view", "Tab to show: " + MainWindow::view_names().join(", ") + ".", "NAME"},
      {"mask-criterion", "Masks tab: compare magnitude with wanda or sparsegpt.", "NAME"},
      {"model-eval", "Evaluate the loaded model directory on token ids (.npy).", "IDS.npy"},
      {"model-criteria", "Criteria of --model-eval, e.g. magnitude,sparsegpt.", "LIST"},
      {"quit", "Quit when the steps are done (exit status 1 if any failed)."},
  });
}

std::optional<AutomationSteps> automation_steps(const QCommandLineParser& parser) {
  bool acts = false;
  for (const char* option : {"load", "model-eval", "run", "export-csv", "export-pdf", "screenshot", "view", "quit"})
    acts = acts || parser.isSet(option);
  if (!acts) return std::nullopt;
  AutomationSteps steps;
  steps.load = parser.values("load");
  steps.tensors = parser.values("tensor");
  steps.patterns = parser.value("pattern");
  steps.bits = parser.value("bits");
  steps.engines = parser.value("engines");
  steps.run = parser.isSet("run");
  steps.export_csv = parser.value("export-csv");
  steps.export_pdf = parser.value("export-pdf");
  steps.screenshot = parser.value("screenshot");
  steps.view = parser.value("view");
  steps.mask_criterion = parser.value("mask-criterion");
  steps.model_eval = parser.value("model-eval");
  steps.model_criteria = parser.value("model-criteria");
  steps.quit = parser.isSet("quit");
  return steps;
}

}  // namespace nmscope::gui
