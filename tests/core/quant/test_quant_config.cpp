// Bit widths and granularities as the options spell them.
#include <QtTest>

#include "nmscope/error.hpp"
#include "nmscope/quant_config.hpp"

using namespace nmscope;

class TestQuantConfig final : public QObject {
  Q_OBJECT

 private slots:
  void names_granularities() {
    QuantConfig quant;
    QCOMPARE(quant.granularity_name(), std::string("group:128"));
    quant.granularity = Granularity::Channel;
    QCOMPARE(quant.granularity_name(), std::string("channel"));
    quant.granularity = Granularity::Tensor;
    QCOMPARE(quant.granularity_name(), std::string("tensor"));
    quant.bits = 16;
    QCOMPARE(quant.granularity_name(), std::string("none"));
  }

  void accepts_2_to_8_and_16_bits() {
    const auto bits = QuantConfig::parse_bits_list("16,8,4,3,2");
    QCOMPARE(bits, (std::vector<int>{16, 8, 4, 3, 2}));
  }

  void rejects_bad_bits_and_groups() {
    for (const char* list : {"1", "9", "0", "32", "-4", "4.5", "four", "4,,8"}) {
      try {
        QuantConfig::parse_bits_list(list);
        QFAIL(list);
      } catch (const Error& error) {
        QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Bits);
      }
    }
    QuantConfig quant;
    quant.group = 0;
    try {
      quant.validate();
      QFAIL("group 0 accepted");
    } catch (const Error& error) {
      QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Group);
    }
    quant.group = -3;
    QVERIFY_THROWS_EXCEPTION(Error, quant.validate());
    quant.granularity = Granularity::Channel;  // the group size does not matter per channel
    quant.validate();
  }
};

QTEST_APPLESS_MAIN(TestQuantConfig)
#include "test_quant_config.moc"
