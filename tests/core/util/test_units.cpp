// Figures for people: bytes and times scaled to a unit with four significant digits.
#include <QtTest>
#include <limits>

#include "nmscope/units.hpp"

using namespace nmscope;

class TestUnits final : public QObject {
  Q_OBJECT

 private slots:
  void bytes_take_the_largest_binary_unit_below_1024() {
    QCOMPARE(format_bytes(0), std::string("0 B"));
    QCOMPARE(format_bytes(1023), std::string("1023 B"));
    QCOMPARE(format_bytes(1024), std::string("1.000 KiB"));
    QCOMPARE(format_bytes(1536), std::string("1.500 KiB"));
    QCOMPARE(format_bytes(32u << 20), std::string("32.00 MiB"));
    QCOMPARE(format_bytes(8650752), std::string("8.250 MiB"));
    QCOMPARE(format_bytes(13476831232ull), std::string("12.55 GiB"));
    // Just under the next unit: never "1024 KiB".
    QCOMPARE(format_bytes((1u << 20) - 1), std::string("1.000 MiB"));
  }

  void times_take_the_largest_unit_of_at_least_one() {
    QCOMPARE(format_microseconds(7877.155), std::string("7.877 ms"));
    QCOMPARE(format_microseconds(0.85), std::string("850.0 ns"));
    QCOMPARE(format_microseconds(123.456), std::string("123.5 µs"));
    QCOMPARE(format_microseconds(12.346e6), std::string("12.35 s"));
    QCOMPARE(format_microseconds(1.0), std::string("1.000 µs"));
    QCOMPARE(format_microseconds(999.99), std::string("1.000 ms"));
    QCOMPARE(format_microseconds(0), std::string("0 ns"));
    QCOMPARE(format_microseconds(-1), std::string("—"));
    QCOMPARE(format_microseconds(std::numeric_limits<double>::quiet_NaN()), std::string("—"));
  }

  void four_significant_digits_without_exponent() {
    QCOMPARE(four_significant_digits(0.123456), std::string("0.1235"));
    QCOMPARE(four_significant_digits(12.345), std::string("12.35"));  // %.2f of 12.345 (binary 12.3449...)
    QCOMPARE(four_significant_digits(1234.5), std::string("1234"));   // round half to even of the binary value
    QCOMPARE(four_significant_digits(999.96), std::string("1000"));
    QCOMPARE(four_significant_digits(123456.0), std::string("123456"));
    QCOMPARE(four_significant_digits(-2.5), std::string("-2.500"));
  }
};

QTEST_APPLESS_MAIN(TestUnits)
#include "test_units.moc"
