#include <QtTest>
class TestSweepCli : public QObject {
  Q_OBJECT
};
QTEST_APPLESS_MAIN(TestSweepCli)
#include "test_sweep_cli.moc"
