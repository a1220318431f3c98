#include "store/measurement_figures.hpp"

#include <nlohmann/json.hpp>

namespace nmscope::store {

namespace {

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// A JSON value as the conflict line shows it, shortened past 60 characters (a nested object can be long).
std::string shown(const nlohmann::json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

}  // namespace

bool is_run_description(const std::string& details_key) {
  // Simulation speed and wall times: properties of the host at that moment, not of the design point.
  return details_key == "simulated_cycles_per_second" || ends_with(details_key, "_seconds");
}

std::string details_difference(const std::string& first, const std::string& second) {
  if (first == second) return {};
  const auto a = nlohmann::json::parse(first, nullptr, false);
  const auto b = nlohmann::json::parse(second, nullptr, false);
  if (!a.is_object() || !b.is_object()) return "details_json '" + first + "' vs '" + second + "'";
  for (const auto& [key, value] : a.items()) {
    if (is_run_description(key)) continue;
    const auto other = b.find(key);
    if (other == b.end()) return "details_json." + key + " " + shown(value) + " vs (absent)";
    if (*other != value) return "details_json." + key + " " + shown(value) + " vs " + shown(*other);
  }
  for (const auto& [key, value] : b.items())
    if (!is_run_description(key) && !a.contains(key)) return "details_json." + key + " (absent) vs " + shown(value);
  return {};
}

}  // namespace nmscope::store
