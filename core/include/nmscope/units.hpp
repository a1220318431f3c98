#pragma once
// Figures as a person reads them: bytes in KiB / MiB / GiB, times in ns / µs / ms / s, with four significant digits
// ("7.877 ms", not "7877.155000"). For text meant for people (tables, axes, reports); the database, CSV and JSON
// keep the raw numbers with their unit in the column name.
#include <cstdint>
#include <string>

namespace nmscope {

// "512 B", "1.500 KiB", "31.25 MiB", "12.34 GiB" (binary prefixes: 1 KiB = 1024 B).
std::string format_bytes(std::uint64_t bytes);
// A duration given in microseconds: "850.0 ns", "7.877 ms", "12.34 s"; "—" for a negative or non-finite value.
std::string format_microseconds(double microseconds);
// `value` with four significant digits and no exponent ("0.1235", "12.35", "1235"); the helper of both above.
std::string four_significant_digits(double value);

}  // namespace nmscope
