#include "nmscope/engine_registry.hpp"

#include <algorithm>

#include "nmscope/error.hpp"
#include "text_list.hpp"

namespace nmscope {

const EngineRegistry& EngineRegistry::global() {
  static const EngineRegistry registry = [] {
    EngineRegistry filled;
    register_cpu_engines(filled);
    register_gpu_engines(filled);
    return filled;
  }();
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
  for (const auto& item : split_list(list, "--engines")) {
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
      throw Error("--engines", "unknown engine '" + item + "' (known: " + known + ")");
    }
  }
  return selected;
}

}  // namespace nmscope
