// Parsing and derived figures of N:M patterns (docs/conventions.md).
#include <QtTest>

#include "nmscope/error.hpp"
#include "nmscope/nm_pattern.hpp"

using nmscope::Error;
using nmscope::NMPattern;

class TestNMPattern final : public QObject {
  Q_OBJECT

 private slots:
  void parses_dense_and_nm() {
    QCOMPARE(NMPattern::parse("dense"), NMPattern::dense());
    QCOMPARE(NMPattern::parse("2:4"), (NMPattern{2, 4}));
    QCOMPARE(NMPattern::parse(" 3:7 "), (NMPattern{3, 7}));
    QCOMPARE(NMPattern::parse("32:32"), (NMPattern{32, 32}));
    QCOMPARE(NMPattern::parse("1:1"), NMPattern::dense());
    QCOMPARE(NMPattern::parse("2:4").to_string(), std::string("2:4"));
    QCOMPARE(NMPattern::dense().to_string(), std::string("dense"));
  }

  void rejects_invalid_patterns_naming_the_option_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("N > M") << "5:4";
    QTest::newRow("M = 0") << "0:0";
    QTest::newRow("N = 0") << "0:4";
    QTest::newRow("M too large") << "2:33";
    QTest::newRow("negative") << "-1:4";
    QTest::newRow("no colon") << "24";
    QTest::newRow("words") << "two:four";
    QTest::newRow("empty half") << "2:";
    QTest::newRow("trailing junk") << "2:4x";
  }
  void rejects_invalid_patterns_naming_the_option() {
    QFETCH(QString, text);
    try {
      NMPattern::parse(text.toStdString());
      QFAIL("accepted an invalid pattern");
    } catch (const Error& error) {
      QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Pattern);
    }
  }

  void parses_lists_and_rejects_empty_items() {
    const auto patterns = NMPattern::parse_list("dense,2:4,1:4,4:8");
    QCOMPARE(patterns.size(), size_t(4));
    QCOMPARE(patterns[3], (NMPattern{4, 8}));
    QVERIFY_THROWS_EXCEPTION(Error, NMPattern::parse_list("2:4,,1:4"));
    QVERIFY_THROWS_EXCEPTION(Error, NMPattern::parse_list(""));
  }

  void metadata_bits_are_ceil_log2_m() {
    QCOMPARE(NMPattern::dense().metadata_bits(), 0);
    QCOMPARE((NMPattern{2, 4}).metadata_bits(), 2);
    QCOMPARE((NMPattern{1, 4}).metadata_bits(), 2);
    QCOMPARE((NMPattern{4, 8}).metadata_bits(), 3);
    QCOMPARE((NMPattern{1, 2}).metadata_bits(), 1);
    QCOMPARE((NMPattern{2, 5}).metadata_bits(), 3);
    QCOMPARE((NMPattern{1, 32}).metadata_bits(), 5);
    QCOMPARE((NMPattern{4, 4}).metadata_bits(), 0);  // every position kept: nothing to name
  }
};

QTEST_APPLESS_MAIN(TestNMPattern)
#include "test_nm_pattern.moc"
