// The desktop app and nmscope-cli writing one results database at the same time: the window runs a study through its
// widgets while a CLI process runs another. Nothing may be lost and neither may fail with "database is locked".
#include <QElapsedTimer>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "nmscope/results_store.hpp"
#include "results/results_model.hpp"
#include "sources/sources_view.hpp"
#include "study/study_panel.hpp"
#include "study/study_worker.hpp"

using namespace nmscope;
using namespace nmscope::gui;

namespace {

// `count` tiny tensors in one synthetic source: many quick measurements, so the two writers interleave often.
QString synth_spec(int count, int seed) {
  QStringList shapes;
  for (int i = 0; i < count; ++i) shapes << "8x16";
  return "synth:" + shapes.join('+') + ":seed=" + QString::number(seed);
}

}  // namespace

class TestGuiCliWriters final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir home_;

 private slots:
  void initTestCase() {
    QVERIFY(home_.isValid());
    gui_test::isolate_settings(home_);
  }

  void window_and_cli_write_one_database() {
    constexpr int kTensors = 125;  // x 2 patterns x 2 bits = 500 measurements per writer
    const QString database = home_.filePath("shared.db");
    MainWindow window(database);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.open_source(synth_spec(kTensors, 1)));
    window.sources_view()->select_all_matrices();
    window.study_panel()->set_patterns("dense,2:4");
    window.study_panel()->set_bits("8,4");
    window.study_panel()->set_engines("none");
    QSignalSpy failed(window.study_worker(), &StudyWorker::failed);
    QSignalSpy skipped(window.study_worker(), &StudyWorker::skipped);

    QProcess cli;
    cli.setProgram(QStringLiteral(NMSCOPE_CLI_PATH));
    cli.setArguments({"run", "--weights", synth_spec(kTensors, 2), "--pattern", "dense,2:4", "--bits", "8,4",
                      "--engines", "none", "--json", "--db", database});
    cli.start();
    QVERIFY(cli.waitForStarted());
    QVERIFY(window.start_study());

    QElapsedTimer timer;
    timer.start();
    while ((window.study_worker()->is_running() || cli.state() != QProcess::NotRunning) && timer.elapsed() < 240000)
      QTest::qWait(10);
    QVERIFY(!window.study_worker()->is_running());
    QCOMPARE(cli.state(), QProcess::NotRunning);
    const QString cli_errors = QString::fromUtf8(cli.readAllStandardError());
    QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
    QVERIFY2(cli.exitCode() == 0, qPrintable(cli_errors));
    QVERIFY2(!cli_errors.contains("locked", Qt::CaseInsensitive), qPrintable(cli_errors));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    QVERIFY2(skipped.isEmpty(), skipped.isEmpty() ? "" : qPrintable(skipped.first().first().toString()));
    QCOMPARE(QString::fromUtf8(cli.readAllStandardOutput()).count('\n'), 4 * kTensors);

    ResultsStore store(database.toStdString());
    QCOMPARE(store.count(), 8 * kTensors);
    int64_t from_window = 0;
    for (const Measurement& row : store.all()) from_window += row.source == synth_spec(kTensors, 1).toStdString();
    QCOMPARE(from_window, 4 * kTensors);
    QCOMPARE(store.stored_keys().size(), size_t(8 * kTensors));
    qInfo("reliability: GUI + CLI writers x %d measurements: %lld rows stored, %d expected", 4 * kTensors,
          static_cast<long long>(store.count()), 8 * kTensors);
  }
};

QTEST_MAIN(TestGuiCliWriters)
#include "test_gui_cli_writers.moc"
