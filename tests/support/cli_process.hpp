#pragma once
// nmscope-cli (NMSCOPE_CLI_PATH) run as a separate process, for the suites that pin its contract as a user meets
// it: the exit status, stdout, and the one-line error on stderr.
#include <QProcess>
#include <QtTest>
#include <QString>
#include <QStringList>

namespace nmscope::test {

struct CliResult {
  int exit_code = -1;  // -1: crashed or timed out (err says which)
  QString out;
  QString err;

  QStringList err_lines() const { return err.split('\n', Qt::SkipEmptyParts); }
  QString describe() const {
    return QString("exit %1\n--- stdout\n%2--- stderr\n%3").arg(exit_code).arg(out.left(4000), err.left(4000));
  }
};

// `working_directory` empty: the test's own; a user runs relative paths from wherever they are.
inline CliResult run_cli(const QStringList& arguments, int timeout_ms = 600000, const QString& working_directory = {},
                         const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment()) {
  QProcess process;
  process.setProcessEnvironment(environment);
  process.setProgram(QStringLiteral(NMSCOPE_CLI_PATH));
  process.setArguments(arguments);
  if (!working_directory.isEmpty()) process.setWorkingDirectory(working_directory);
  process.start();
  CliResult result;
  if (!process.waitForFinished(timeout_ms) || process.exitStatus() != QProcess::NormalExit) {
    process.kill();
    process.waitForFinished();
    result.err = "nmscope-cli crashed or timed out: " + process.errorString();
    return result;
  }
  result.exit_code = process.exitCode();
  result.out = QString::fromUtf8(process.readAllStandardOutput());
  result.err = QString::fromUtf8(process.readAllStandardError());
  return result;
}

// A refused command: this exit status and exactly one line on stderr, containing `needle`.
inline void expect_one_line_error(const CliResult& result, int exit_code, const QString& needle) {
  QVERIFY2(result.exit_code == exit_code, qPrintable(result.describe()));
  QCOMPARE(result.err_lines().size(), 1);
  QVERIFY2(result.err.contains(needle), qPrintable(result.describe()));
}

}  // namespace nmscope::test
