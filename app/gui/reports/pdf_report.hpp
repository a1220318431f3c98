#pragma once
// The PDF report: title page facts (date, version, host and device), the sources and the configuration, a summary
// table with one row per measurement, every chart as vector graphics and mask thumbnails. Written through QSaveFile,
// so a failed export leaves no half file.
#include <QImage>
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

#include "nmscope/measurement.hpp"

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
  std::vector<ReportFigure> figures;
  std::vector<std::pair<QString, QImage>> thumbnails;
  QString host;
  QString build;
  QString date;
};

// Throws nmscope::Error(path, reason) when the file cannot be written.
void write_pdf_report(const QString& path, const ReportContents& contents);

// The summary table's columns, in order (also the text a reader of the PDF finds in each row).
QStringList report_table_columns();
QStringList report_table_row(const Measurement& measurement);

}  // namespace nmscope::gui
