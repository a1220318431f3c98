#include "nmscope/host_info.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace nmscope {

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

}  // namespace

std::string host_description() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
  return std::string(name[0] ? name : "unknown-host") + " | " + cpu_model() + " | " +
         std::to_string(std::thread::hardware_concurrency()) + " cores";
}

std::string nmscope_version() { return NMSCOPE_VERSION; }

std::string build_description() {
  return "nmscope " NMSCOPE_VERSION " (git " NMSCOPE_GIT_DESCRIBE ") " NMSCOPE_COMPILER " " NMSCOPE_BUILD_TYPE;
}

std::size_t last_level_cache_bytes() {
  // sysfs lists the caches of cpu0 by level; the highest index is the last level.
  std::size_t best = 0;
  for (int index = 0; index < 8; ++index) {
    std::ifstream size_file("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    std::string text;
    if (!(size_file >> text)) break;
    std::size_t value = std::stoull(text);
    if (text.back() == 'K') value *= 1024;
    if (text.back() == 'M') value *= 1024 * 1024;
    if (value > best) best = value;
  }
#ifdef _SC_LEVEL3_CACHE_SIZE
  if (best == 0) {
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > 0) best = static_cast<std::size_t>(l3);
  }
#endif
  return best ? best : std::size_t{32} << 20;
}

std::string utc_timestamp() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace nmscope

namespace nmscope {

int64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line))
    if (line.rfind("MemAvailable:", 0) == 0) return std::stoll(line.substr(13)) * 1024;  // "MemAvailable:  123 kB"
  return -1;
}

}  // namespace nmscope
