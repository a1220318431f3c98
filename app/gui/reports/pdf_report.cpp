#include "reports/pdf_report.hpp"

#include <QFontMetrics>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <algorithm>
#include <cmath>

#include "nmscope/error.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/units.hpp"

namespace nmscope::gui {

namespace {

QString number(double value, int precision = 3) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return QString::number(value, 'g', precision);
}

// Draws pages top to bottom; starts a new page when the next block does not fit.
class PageCursor {
 public:
  PageCursor(QPdfWriter& writer, QPainter& painter) : writer_(writer), painter_(painter) {
    page_ = QRectF(painter_.viewport());
    y_ = page_.top();
  }
  QRectF take(double height) {
    if (y_ + height > page_.bottom() && y_ > page_.top()) new_page();
    const QRectF block(page_.left(), y_, page_.width(), height);
    y_ += height;
    return block;
  }
  void new_page() {
    writer_.newPage();
    y_ = page_.top();
  }
  double width() const { return page_.width(); }
  double remaining() const { return page_.bottom() - y_; }

 private:
  QPdfWriter& writer_;
  QPainter& painter_;
  QRectF page_;
  double y_ = 0;
};

void draw_text_block(QPainter& painter, PageCursor& cursor, const QString& text, const QFont& font) {
  painter.setFont(font);
  const QFontMetricsF metrics(font, painter.device());
  const QRectF bounds = metrics.boundingRect(QRectF(0, 0, cursor.width(), 1e6), Qt::TextWordWrap, text);
  const QRectF block = cursor.take(bounds.height() + metrics.height() * 0.4);
  painter.drawText(block, Qt::TextWordWrap, text);
}

// Columns sized by their content. With `wrap_last`, the last column takes the width the others leave and its text
// wraps onto more lines (page 1's speedup lists); otherwise every column is scaled to the page and elided.
void draw_table(QPainter& painter, PageCursor& cursor, const QStringList& columns,
                const std::vector<QStringList>& cells, const QFont& font, bool wrap_last = false) {
  painter.setFont(font);
  const QFontMetricsF metrics(font, painter.device());
  const double line = metrics.height() * 1.25;
  const double padding = metrics.averageCharWidth() * 2;
  std::vector<double> widths(size_t(columns.size()), 0);
  QFont header_font = font;
  header_font.setBold(true);  // the header is drawn bold: measure it so
  const QFontMetricsF header_metrics(header_font, painter.device());
  for (int column = 0; column < columns.size(); ++column)
    widths[size_t(column)] = header_metrics.horizontalAdvance(columns[column]);
  for (const QStringList& texts : cells)
    for (int column = 0; column < columns.size() && column < texts.size(); ++column)
      widths[size_t(column)] = std::max(widths[size_t(column)], metrics.horizontalAdvance(texts[column]));
  for (double& width : widths) width += padding;
  double scale = 1;
  if (wrap_last) {
    double others = 0;
    for (size_t column = 0; column + 1 < widths.size(); ++column) others += widths[column];
    widths.back() = std::max(cursor.width() * 0.25, cursor.width() - others);
    scale = std::min(1.0, cursor.width() / (others + widths.back()));
  } else {
    double total = 0;
    for (double width : widths) total += width;
    scale = std::min(1.0, cursor.width() / total);
  }
  auto height_of = [&](const QStringList& texts) {
    if (!wrap_last || texts.size() < columns.size()) return line;
    const double width = widths.back() * scale - metrics.averageCharWidth();
    const QRectF bounds = metrics.boundingRect(QRectF(0, 0, width, 1e6), Qt::TextWordWrap, texts.back());
    return std::max(line, bounds.height() + line - metrics.height());
  };
  auto draw_row = [&](const QStringList& texts, bool header) {
    const QRectF block = cursor.take(height_of(texts));
    double x = block.left();
    QFont row_font = font;
    row_font.setBold(header);
    painter.setFont(row_font);
    for (int column = 0; column < texts.size() && column < columns.size(); ++column) {
      const double width = widths[size_t(column)] * scale;
      const QRectF cell(x, block.top(), width - metrics.averageCharWidth(), block.height());
      if (wrap_last && column == columns.size() - 1)
        painter.drawText(cell, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, texts[column]);
      else
        painter.drawText(cell, Qt::AlignLeft | Qt::AlignVCenter,
                         metrics.elidedText(texts[column], Qt::ElideMiddle, cell.width()));
      x += width;
    }
    if (header) painter.drawLine(QPointF(block.left(), block.bottom()), QPointF(block.right(), block.bottom()));
  };
  draw_row(columns, true);
  for (const QStringList& texts : cells) {
    if (cursor.remaining() < height_of(texts)) {
      cursor.new_page();
      draw_row(columns, true);  // repeat the header on every page of the table
    }
    draw_row(texts, false);
  }
  cursor.take(line * 0.5);
}

// "cpu/int4-2:4 3.02x, fpga/systolic-16x16 1.94x": each engine measured on the configuration, against its baseline.
QString speedups_cell(const ConfigurationSummary& configuration) {
  QStringList parts;
  for (const auto& [engine, speedup] : configuration.speedup_by_engine) parts << engine + " " + number(speedup) + "x";
  return parts.isEmpty() ? QString("— (no timed engine)") : parts.join(", ");
}

}  // namespace

QStringList report_table_columns() {
  return {"tensor",  "shape",   "pattern",    "bits",       "scales",  "criterion", "engine", "batch",
          "storage", "vs fp16", "weight err", "output err", "SQNR dB", "time",      "status"};
}

QStringList pareto_table_columns(const ReportSummary&) {
  return {"configuration", "bits / weight", "weight err",
          "output err",    "tensors",       "speedup vs the strongest dense baseline"};
}

std::vector<QStringList> pareto_table_rows(const ReportSummary& summary) {
  std::vector<QStringList> rows;
  for (const ConfigurationSummary& one : summary.pareto)
    rows.push_back({one.configuration, QString::number(one.bits_per_weight, 'f', 2), number(one.weight_rel_err),
                    number(one.output_rel_err), QString::number(one.tensors), speedups_cell(one)});
  return rows;
}

QStringList budget_table_columns(const ReportSummary&) {
  return {"weight err at most", "smallest configuration", "bits / weight", "weight err",
          "speedup vs the strongest dense baseline"};
}

std::vector<QStringList> budget_table_rows(const ReportSummary& summary) {
  std::vector<QStringList> rows;
  for (const ErrorBudgetChoice& choice : summary.budgets) {
    if (!choice.smallest)
      rows.push_back({number(choice.budget), "none of the studied configurations", "—", "—", "—"});
    else
      rows.push_back({number(choice.budget), choice.smallest->configuration,
                      QString::number(choice.smallest->bits_per_weight, 'f', 2),
                      number(choice.smallest->weight_rel_err), speedups_cell(*choice.smallest)});
  }
  return rows;
}

QStringList report_table_row(const Measurement& m) {
  return {QString::fromStdString(m.tensor),
          QString("%1x%2").arg(m.rows).arg(m.cols),
          QString::fromStdString(m.pattern.to_string()),
          m.quant.bits == 16 ? "fp16" : QString::number(m.quant.bits),
          QString::fromStdString(m.quant.granularity_name()) + (m.quant.symmetric ? "" : " asym"),
          QString::fromStdString(m.criterion),
          QString::fromStdString(m.engine),
          m.batch > 0 ? QString::number(m.batch) : "-",
          QString::fromStdString(format_bytes(std::uint64_t(std::max<int64_t>(0, m.storage_bytes)))),
          number(m.compression_vs_fp16) + "x",
          number(m.weight_rel_err),
          number(m.output_rel_err),
          number(m.sqnr_db),
          m.time_us ? QString::fromStdString(format_microseconds(*m.time_us)) : "-",
          QString::fromStdString(m.status)};
}

void write_pdf_report(const QString& path, const ReportContents& contents) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) throw Error(path.toStdString(), file.errorString().toStdString());
  {
    QPdfWriter writer(&file);
    writer.setTitle(contents.title);
    writer.setCreator(contents.build);
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Landscape, QMarginsF(12, 12, 12, 12)));
    writer.setResolution(300);
    QPainter painter(&writer);
    if (!painter.isActive()) throw Error(path.toStdString(), "cannot start a PDF page");
    PageCursor cursor(writer, painter);
    QFont title_font("Sans", 18, QFont::Bold);
    QFont heading_font("Sans", 12, QFont::Bold);
    QFont body_font("Sans", 9);
    QFont table_font("Sans", 7);

    // Page 1: what was studied, and what it found.
    draw_text_block(painter, cursor, contents.title, title_font);
    draw_text_block(painter, cursor,
                    QString("Date: %1\nBuild: %2\nHost: %3").arg(contents.date, contents.build, contents.host), body_font);
    draw_text_block(painter, cursor, "What was studied", heading_font);
    QStringList studied;
    studied << "Sources: " + (contents.sources.isEmpty() ? QString("(none)") : contents.sources.join(", "));
    for (const QString& source : contents.sources)
      if (const std::string note = synthetic_weights_note(source.toStdString()); !note.empty())
        studied << "Note: " + QString::fromStdString(note);
    studied << contents.configuration;
    draw_text_block(painter, cursor, studied.join('\n'), body_font);
    draw_text_block(painter, cursor,
                    QString("Pareto set: storage against weight error (%1 configurations on the front)")
                        .arg(contents.summary.pareto.size()),
                    heading_font);
    if (contents.summary.pareto.empty())
      draw_text_block(painter, cursor, "No configuration with accuracy figures in this report.", body_font);
    else
      draw_table(painter, cursor, pareto_table_columns(contents.summary), pareto_table_rows(contents.summary),
                 body_font, true);
    draw_text_block(painter, cursor, "Smallest configuration under an error budget (mean weight_rel_err)",
                    heading_font);
    draw_table(painter, cursor, budget_table_columns(contents.summary), budget_table_rows(contents.summary), body_font,
               true);
    if (!contents.unavailable.isEmpty()) {
      draw_text_block(painter, cursor, "Engines that could not run here", heading_font);
      draw_text_block(painter, cursor, contents.unavailable.join('\n'), body_font);
    }

    for (const ReportFigure& figure : contents.figures) {
      cursor.new_page();
      draw_text_block(painter, cursor, figure.title, heading_font);
      const QRectF area = cursor.take(cursor.remaining());
      figure.render(painter, area);
    }
    if (!contents.thumbnails.empty()) {
      cursor.new_page();
      draw_text_block(painter, cursor, "Pruning masks", heading_font);
      const double size = cursor.width() / 3.2;
      for (size_t index = 0; index < contents.thumbnails.size(); index += 3) {
        const QRectF row = cursor.take(size + 80);
        for (size_t column = 0; column < 3 && index + column < contents.thumbnails.size(); ++column) {
          const auto& [caption, image] = contents.thumbnails[index + column];
          const QRectF cell(row.left() + double(column) * size * 1.05, row.top(), size, size);
          painter.drawImage(cell, image);
          painter.setFont(body_font);
          painter.drawText(QRectF(cell.left(), cell.bottom(), size, 80), Qt::AlignHCenter | Qt::AlignTop, caption);
        }
      }
    }
    cursor.new_page();
    draw_text_block(painter, cursor, QString("All measurements: %1").arg(contents.measurements.size()), heading_font);
    std::vector<QStringList> cells;
    for (const Measurement& row : contents.measurements) cells.push_back(report_table_row(row));
    draw_table(painter, cursor, report_table_columns(), cells, table_font);
    painter.end();
  }
  if (!file.commit()) throw Error(path.toStdString(), file.errorString().toStdString());
}

}  // namespace nmscope::gui
