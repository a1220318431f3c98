#include "reports/pdf_report.hpp"

#include <QFontMetrics>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <cmath>

#include "nmscope/error.hpp"

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

void draw_table(QPainter& painter, PageCursor& cursor, const std::vector<Measurement>& rows, const QFont& font) {
  painter.setFont(font);
  const QFontMetricsF metrics(font, painter.device());
  const double line = metrics.height() * 1.25;
  const QStringList columns = report_table_columns();
  // Column widths by content, scaled to the page width.
  std::vector<double> widths(size_t(columns.size()), 0);
  for (int column = 0; column < columns.size(); ++column) widths[size_t(column)] = metrics.horizontalAdvance(columns[column]);
  std::vector<QStringList> cells;
  for (const auto& row : rows) {
    cells.push_back(report_table_row(row));
    for (int column = 0; column < columns.size(); ++column)
      widths[size_t(column)] = std::max(widths[size_t(column)], metrics.horizontalAdvance(cells.back()[column]));
  }
  double total = 0;
  for (double width : widths) total += width + metrics.averageCharWidth() * 2;
  const double scale = std::min(1.0, cursor.width() / total);
  auto draw_row = [&](const QStringList& texts, bool header) {
    const QRectF block = cursor.take(line);
    double x = block.left();
    QFont row_font = font;
    row_font.setBold(header);
    painter.setFont(row_font);
    for (int column = 0; column < texts.size(); ++column) {
      const double width = (widths[size_t(column)] + metrics.averageCharWidth() * 2) * scale;
      painter.drawText(QRectF(x, block.top(), width, line), Qt::AlignLeft | Qt::AlignVCenter,
                       metrics.elidedText(texts[column], Qt::ElideMiddle, width - metrics.averageCharWidth()));
      x += width;
    }
    if (header) painter.drawLine(QPointF(block.left(), block.bottom()), QPointF(block.right(), block.bottom()));
  };
  draw_row(columns, true);
  for (const QStringList& texts : cells) {
    if (cursor.remaining() < line) {
      cursor.new_page();
      draw_row(columns, true);  // repeat the header on every page of the table
    }
    draw_row(texts, false);
  }
}

}  // namespace

QStringList report_table_columns() {
  return {"tensor", "shape", "pattern", "bits", "scales", "criterion", "engine", "batch", "storage B", "vs fp16",
          "weight err", "output err", "SQNR dB", "time us", "status"};
}

QStringList report_table_row(const Measurement& m) {
  return {QString::fromStdString(m.tensor),
          QString("%1x%2").arg(m.rows).arg(m.cols),
          QString::fromStdString(m.pattern),
          m.bits == 16 ? "fp16" : QString::number(m.bits),
          QString::fromStdString(m.granularity) + (m.symmetric ? "" : " asym"),
          QString::fromStdString(m.criterion),
          QString::fromStdString(m.engine),
          m.batch > 0 ? QString::number(m.batch) : "-",
          QString::number(m.storage_bytes),
          number(m.compression_vs_fp16) + "x",
          number(m.weight_rel_err),
          number(m.output_rel_err),
          number(m.sqnr_db),
          m.time_us ? number(*m.time_us, 4) : "-",
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

    draw_text_block(painter, cursor, contents.title, title_font);
    draw_text_block(painter, cursor,
                    QString("Date: %1\nBuild: %2\nHost: %3").arg(contents.date, contents.build, contents.host), body_font);
    draw_text_block(painter, cursor, "Sources", heading_font);
    draw_text_block(painter, cursor, contents.sources.isEmpty() ? "(none)" : contents.sources.join('\n'), body_font);
    draw_text_block(painter, cursor, "Configuration", heading_font);
    draw_text_block(painter, cursor, contents.configuration.join('\n'), body_font);
    draw_text_block(painter, cursor, QString("Summary: %1 measurements").arg(contents.measurements.size()), heading_font);
    draw_table(painter, cursor, contents.measurements, table_font);

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
    painter.end();
  }
  if (!file.commit()) throw Error(path.toStdString(), file.errorString().toStdString());
}

}  // namespace nmscope::gui
