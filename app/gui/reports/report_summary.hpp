#pragma once
// The first page of a PDF report, as figures: which configurations are on the Pareto front of storage against
// error (with each engine's speedup), and which one is smallest under a few error budgets. Pure (no widgets), so
// the rules are tested apart from the PDF.
#include <QString>
#include <QStringList>
#include <map>
#include <optional>
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope::gui {

struct ConfigurationSummary {
  QString configuration;       // "2:4 int4 g128", with the criterion when it is not magnitude
  double bits_per_weight = 0;  // packed bytes of the studied tensors, 8 x bytes / weights
  double weight_rel_err = 0;   // mean over the studied tensors
  double output_rel_err = 0;   // mean over the studied tensors
  int tensors = 0;
  // Geometric mean over tensors and batches of each engine variant's speedup against its named baseline.
  std::map<QString, double> speedup_by_engine;
};

struct ErrorBudgetChoice {
  double budget = 0;                             // on the mean weight_rel_err
  std::optional<ConfigurationSummary> smallest;  // fewest bits per weight within it; none when nothing fits
};

struct ReportSummary {
  std::vector<ConfigurationSummary> pareto;  // the front, by increasing bits per weight
  std::vector<ErrorBudgetChoice> budgets;    // 0.01, 0.05, 0.1, 0.25
  QStringList engines;                       // every engine with a speedup against another row, sorted
};

ReportSummary summarize_for_report(const std::vector<Measurement>& measurements);

// A configuration's name in the report: "2:4 int4 g128", "dense fp16", "2:4 int4 per-channel asym wanda".
QString configuration_name(const Measurement& measurement);

}  // namespace nmscope::gui
