#pragma once
// Where and with what a measurement was made, stored with every row.
#include <cstddef>
#include <string>

namespace nmscope {

std::string host_description();    // "hostname | CPU model | N cores"
std::string build_description();   // "nmscope 0.1.0 (git abc123) GNU 12.2.0 Release"
std::string nmscope_version();
std::size_t last_level_cache_bytes();  // from sysfs / sysconf; 32 MiB when unknown
std::string utc_timestamp();       // ISO-8601, second precision, "Z"

}  // namespace nmscope
