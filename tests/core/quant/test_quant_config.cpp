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

  // The database spells a configuration by name; reading it back gives the same typed value, and a name that is
  // no granularity is refused by name.
  void granularity_names_read_back() {
    QuantConfig grouped{4, Granularity::Group, 64, false};
    QVERIFY(QuantConfig::from_names(4, grouped.granularity_name(), false) == grouped);
    QVERIFY(QuantConfig::from_names(8, "channel", true) ==
            (QuantConfig{8, Granularity::Channel, 128, true}.canonical()));
    QVERIFY(QuantConfig::from_names(16, "none", true) == QuantConfig::fp16());
    QVERIFY(QuantConfig::fp16() == (QuantConfig{16, Granularity::Group, 128, true}.canonical()));
    for (const char* bad : {"group:", "group:0", "group:-8", "group:12x", "blocks", ""}) {
      try {
        QuantConfig::from_names(4, bad, true);
        QFAIL(qPrintable(QString("accepted '%1'").arg(bad)));
      } catch (const SettingError& error) {
        QVERIFY(error.setting() == Setting::Granularity);
      }
    }
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
