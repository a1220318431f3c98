#pragma once
// The PDF report. Page 1 answers what a reader asks first: what was studied (sources, configuration, host), the
// Pareto set of storage against error with each engine's speedup, the smallest configuration under a few error
// budgets, and one line per engine family that could not run, with its reason. Then every chart as vector
// graphics, the pruning masks, and last the full table of measurements. Written through QSaveFile, so a failed
// export leaves no half file.
#include <QImage>
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

#include "nmscope/measurement.hpp"
#include "reports/report_summary.hpp"

class QPainter;
class QRectF;

namespace nmscope::gui {

struct ReportFigure {
  QString title;
  std::function<void(QPainter&, const QRectF&)> render;  // draws the figure into the rectangle (vector output)
};

struct ReportContents {
  QString title = "nmscope report";
  QStringList sources;
  QStringList configuration;
  std::vector<Measurement> measurements;
  ReportSummary summary;  // of `measurements`
  // One line per engine family (or variant group) that could not run here: "gpu (14 variants): no NVIDIA GPU ...".
  QStringList unavailable;
  std::vector<ReportFigure> figures;
  std::vector<std::pair<QString, QImage>> thumbnails;
  QString host;
  QString build;
  QString date;
};

// Throws nmscope::Error(path, reason) when the file cannot be written.
void write_pdf_report(const QString& path, const ReportContents& contents);

// The full table's columns, in order (also the text a reader of the PDF finds in each row).
QStringList report_table_columns();
QStringList report_table_row(const Measurement& measurement);
// Page 1's tables: the Pareto set (one row per configuration on the front) and the error budgets.
QStringList pareto_table_columns(const ReportSummary& summary);
std::vector<QStringList> pareto_table_rows(const ReportSummary& summary);
QStringList budget_table_columns(const ReportSummary& summary);
std::vector<QStringList> budget_table_rows(const ReportSummary& summary);

}  // namespace nmscope::gui
