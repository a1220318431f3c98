#include "charts/fpga_figures.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

namespace nmscope::gui {

std::optional<SystolicArray> systolic_array_of(const std::string& engine) {
  static const std::regex name(R"(fpga/systolic-([1-9][0-9]{0,4})x([1-9][0-9]{0,4}))");
  std::smatch match;
  if (!std::regex_match(engine, match, name)) return std::nullopt;
  return SystolicArray{std::stoi(match[1].str()), std::stoi(match[2].str())};
}

std::optional<double> utilization_percent(const std::string& details_json) {
  const nlohmann::json details = nlohmann::json::parse(details_json, nullptr, false);
  if (details.is_discarded() || !details.is_object()) return std::nullopt;
  const auto found = details.find("utilization");
  if (found == details.end() || !found->is_number()) return std::nullopt;
  const double value = found->get<double>();
  return value <= 1 ? value * 100 : value;
}

std::optional<RooflinePoint> roofline_point(const std::string& engine, const std::string& details_json,
                                            long long cycles) {
  const auto array = systolic_array_of(engine);
  if (!array || cycles <= 0) return std::nullopt;
  const nlohmann::json details = nlohmann::json::parse(details_json, nullptr, false);
  if (details.is_discarded() || !details.is_object()) return std::nullopt;
  for (const char* key : {"useful_macs", "weight_bytes_moved", "port_bytes", "clock_mhz", "memory_gbps"})
    if (!details.contains(key) || !details[key].is_number()) return std::nullopt;
  const double macs = details["useful_macs"].get<double>();
  const double bytes = details["weight_bytes_moved"].get<double>();
  const double port = details["port_bytes"].get<double>();
  const double clock = details["clock_mhz"].get<double>();
  const double gbps = details["memory_gbps"].get<double>();
  if (macs <= 0 || bytes <= 0 || port <= 0 || clock <= 0) return std::nullopt;
  RooflinePoint point;
  point.macs_per_byte = macs / bytes;
  point.macs_per_cycle = macs / double(cycles);
  point.compute_roof = double(array->processing_elements());
  // GB/s over MHz: thousands of bytes per microsecond over millions of cycles per second.
  point.bytes_per_cycle = gbps > 0 ? std::min(port, gbps * 1000.0 / clock) : port;
  point.memory = QString::fromStdString(details.value("memory", std::string()));
  point.bound = QString::fromStdString(details.value("bound", std::string()));
  point.stall_cycles = details.value("stall_cycles", 0LL);
  return point;
}

}  // namespace nmscope::gui
