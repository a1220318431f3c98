#include "nmscope/interleaved_speedup.hpp"

#include <nlohmann/json.hpp>

namespace nmscope {

std::string with_interleaved_speedup(const std::string& details_json, const std::string& baseline,
                                     const RatioStats& ratio) {
  nlohmann::json details = nlohmann::json::parse(details_json, nullptr, false);
  if (!details.is_object()) details = nlohmann::json::object();
  details["speedup"] = {{"baseline", baseline},
                        {"median", ratio.median},
                        {"p10", ratio.p10},
                        {"p90", ratio.p90},
                        {"rounds", ratio.rounds}};
  return details.dump();
}

std::optional<RatioStats> interleaved_speedup(const Measurement& row, const std::string& baseline) {
  const nlohmann::json details = nlohmann::json::parse(row.details_json, nullptr, false);
  if (!details.is_object()) return std::nullopt;
  const auto found = details.find("speedup");
  if (found == details.end() || !found->is_object()) return std::nullopt;
  const nlohmann::json& speedup = *found;
  const auto number = [&](const char* key) -> std::optional<double> {
    const auto value = speedup.find(key);
    if (value == speedup.end() || !value->is_number()) return std::nullopt;
    return value->get<double>();
  };
  if (speedup.value("baseline", std::string()) != baseline) return std::nullopt;
  const auto median = number("median"), p10 = number("p10"), p90 = number("p90"), rounds = number("rounds");
  if (!median || !p10 || !p90 || !(*median > 0)) return std::nullopt;
  return RatioStats{*median, *p10, *p90, rounds ? int(*rounds) : 0};
}

}  // namespace nmscope
