#include "nmscope/engine_registry.hpp"

#include <algorithm>

#include "engines/fpga/fpga_engines.hpp"
#include "nmscope/error.hpp"
#include "nmscope/text_list.hpp"

namespace nmscope {

void EngineOptions::validate() const {
  if (!(fpga_clock_mhz > 0 && fpga_clock_mhz <= 2000))
    throw SettingError(Setting::FpgaClock, "must be in (0, 2000] MHz");
  if (fpga_arrays.empty()) throw SettingError(Setting::ArraySize, "needs at least one array size");
}

EngineRegistry EngineRegistry::with_options(const EngineOptions& options) {
  options.validate();
  EngineRegistry filled;
  register_cpu_engines(filled);
  register_gpu_engines(filled);
  register_fpga_engines(filled, options);
  return filled;
}

const EngineRegistry& EngineRegistry::global() {
  static const EngineRegistry registry = with_options(EngineOptions{});
  return registry;
}

void EngineRegistry::add(std::unique_ptr<Engine> engine) { engines_.push_back(std::move(engine)); }

const Engine* EngineRegistry::find(const std::string& name) const {
  for (const auto& engine : engines_)
    if (engine->name() == name) return engine.get();
  return nullptr;
}

std::vector<const Engine*> EngineRegistry::select(const std::string& list) const {
  std::vector<const Engine*> selected;
  auto add_once = [&](const Engine* engine) {
    if (std::find(selected.begin(), selected.end(), engine) == selected.end()) selected.push_back(engine);
  };
  if (trim(list) == "none") return selected;
  for (const auto& item : split_list(list, Setting::Engines)) {
    if (item == "all") {
      for (const auto& engine : engines_) add_once(engine.get());
      continue;
    }
    if (const Engine* engine = find(item)) {
      add_once(engine);
      continue;
    }
    bool family_found = false;
    for (const auto& engine : engines_) {
      if (engine->family() == item) {
        add_once(engine.get());
        family_found = true;
      }
    }
    if (!family_found) {
      std::string known = "none, all";
      for (const auto& engine : engines_) known += ", " + engine->name();
      throw SettingError(Setting::Engines, "unknown engine '" + item + "' (known: " + known + ")");
    }
  }
  return selected;
}

}  // namespace nmscope
