#include "nmscope/units.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace nmscope {

std::string four_significant_digits(double value) {
  if (!std::isfinite(value)) return "—";
  if (value == 0) return "0";
  // Digits after the point so that four are significant; 1234.5 keeps none rather than switching to 1.235e3.
  const int integer_digits = int(std::floor(std::log10(std::fabs(value)))) + 1;
  int decimals = std::max(0, 4 - integer_digits);
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  // Rounding can carry into a new digit (999.95 -> "1000.0"): one decimal fewer keeps four significant.
  const std::string printed = text;
  if (decimals > 0 && std::fabs(std::stod(printed)) >= std::pow(10.0, integer_digits)) {
    std::snprintf(text, sizeof text, "%.*f", decimals - 1, value);
  }
  return text;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr std::array<const char*, 5> kPrefixes = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = double(bytes) / 1024;
  size_t prefix = 0;
  // Rounded to four digits, 1023.99 KiB would print as "1024 KiB": move up once the rounded value reaches 1024.
  while (std::round(value * 10) / 10 >= 1024 && prefix + 1 < kPrefixes.size()) {
    value /= 1024;
    ++prefix;
  }
  return four_significant_digits(value) + " " + kPrefixes[prefix];
}

std::string format_microseconds(double microseconds) {
  if (!std::isfinite(microseconds) || microseconds < 0) return "—";
  struct Unit {
    double per_microsecond;
    const char* name;
  };
  // From the largest down: the first unit in which the value is at least 1 (after rounding to four digits).
  static constexpr std::array<Unit, 4> kUnits = {{{1e-6, "s"}, {1e-3, "ms"}, {1, "µs"}, {1e3, "ns"}}};
  for (const Unit& unit : kUnits) {
    const double value = microseconds * unit.per_microsecond;
    if (value >= 0.99995 || unit.per_microsecond == 1e3) return four_significant_digits(value) + " " + unit.name;
  }
  return "—";
}

}  // namespace nmscope
