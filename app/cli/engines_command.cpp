// nmscope-cli engines [--json]: every engine variant this build has, as its descriptor describes it (family, device,
// kernel, what it runs, what it is quoted against) and whether it can run here.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "nmscope/engine_registry.hpp"

namespace nmscope::cli {

namespace {

std::string quoted_against(const EngineDescriptor& described) {
  if (described.is_baseline) return "(baseline)";
  return described.baseline() + (baseline_is_dense_configuration(described.name) ? " dense" : "");
}

int list_engines(bool json) {
  std::vector<std::string> reasons;  // why variants cannot run here, each once, after the table
  if (!json) std::printf("%-26s %-26s %-27s %s\n", "engine", "device", "speedup against", "runs");
  for (const auto& engine : EngineRegistry::global().engines()) {
    const EngineDescriptor& described = engine->descriptor();
    const Availability availability = engine->availability();
    if (json) {
      std::cout << nlohmann::json{{"name", described.name},
                                  {"family", family_traits(described.family).name},
                                  {"device", described.device},
                                  {"kernel", described.kernel},
                                  {"runs", described.describe_support()},
                                  {"baseline", described.is_baseline},
                                  {"speedup_against", described.is_baseline ? "" : quoted_against(described)},
                                  {"available", availability.available},
                                  {"unavailable_because", availability.reason}}
                       .dump()
                << "\n";
      continue;
    }
    const std::string device = described.device + (availability.available ? "" : " (unavailable)");
    std::printf("%-26s %-26s %-27s %s\n", described.name.c_str(), device.c_str(), quoted_against(described).c_str(),
                described.describe_support().c_str());
    if (!availability.available && std::find(reasons.begin(), reasons.end(), availability.reason) == reasons.end())
      reasons.push_back(availability.reason);
  }
  for (const std::string& reason : reasons) std::printf("unavailable here: %s\n", reason.c_str());
  return 0;
}

}  // namespace

Command add_engines_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "engines", "List the engine variants: what each runs, what its speedup is quoted against, whether it runs here");
  command->add_flag("--json", *json, "One JSON object per variant (with its kernel and device)");
  return {command, [json] { return list_engines(*json); }};
}

}  // namespace nmscope::cli
