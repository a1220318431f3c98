#pragma once
// Shared set-up of the window tests: settings and the default results database live in the test's own temporary
// directory, never the user's.
#include <QCoreApplication>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <QtTest>

namespace gui_test {

inline void isolate_settings(const QTemporaryDir& home) {
  qputenv("XDG_CONFIG_HOME", home.filePath("config").toUtf8());
  qputenv("XDG_DATA_HOME", home.filePath("data").toUtf8());
  QCoreApplication::setOrganizationName("nmscope-test");
  QCoreApplication::setApplicationName("nmscope-test");
}

#ifdef NMSCOPE_PDFTOTEXT
// The text a reader finds in a PDF (poppler's pdftotext -layout), pages first..last (0: to the end). The GUI suites
// require pdftotext (CMake refuses to build them without it): a report is checked by what it says.
inline QString pdf_text(const QString& pdf, int first = 1, int last = 0) {
  QProcess text;
  QStringList arguments = {"-layout", "-f", QString::number(first)};
  if (last > 0) arguments << "-l" << QString::number(last);
  text.start(NMSCOPE_PDFTOTEXT, arguments << pdf << "-");
  if (!text.waitForFinished(20000) || text.exitCode() != 0) return {};
  // Compatibility form: the fonts' ligatures ("ﬁ") read back as the letters a reader sees ("fi").
  return QString::fromUtf8(text.readAllStandardOutput()).normalized(QString::NormalizationForm_KC);
}
#endif

}  // namespace gui_test
