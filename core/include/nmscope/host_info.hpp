#pragma once
// Where and with what a measurement was made, stored with every row.
#include <cstddef>
#include <cstdint>
#include <string>

namespace nmscope {

std::string host_description();    // "hostname | CPU model | N cores"
// Memory the kernel could give this process now without swapping (/proc/meminfo MemAvailable); -1 when unknown.
int64_t available_memory_bytes();
std::string build_description();   // "nmscope 0.1.0 (git abc123) GNU 12.2.0 Release"
std::string nmscope_version();
std::size_t last_level_cache_bytes();  // from sysfs / sysconf; 32 MiB when unknown
std::string utc_timestamp();       // ISO-8601, second precision, "Z"

}  // namespace nmscope
