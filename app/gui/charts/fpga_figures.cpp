#include "charts/fpga_figures.hpp"

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

}  // namespace nmscope::gui
