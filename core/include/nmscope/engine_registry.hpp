#pragma once
// Every engine variant this build has. Front ends list and select engines only through here, so an engine that
// lands later appears in the CLI and the GUI without changes to either.
#include <memory>
#include <string>
#include <vector>

#include "nmscope/engine.hpp"
#include "nmscope/fpga/systolic_array.hpp"

namespace nmscope {

// Design points of the parameterized engines: which fpga/systolic-RxC variants exist, their clock and the memory
// behind their port.
struct EngineOptions {
  std::vector<fpga::ArraySize> fpga_arrays{{16, 16}, {32, 32}};
  double fpga_clock_mhz = fpga::kDefaultClockMhz;
  fpga::MemorySystem fpga_memory = fpga::default_memory_system();
  // Throws SettingError(FpgaClock / ArraySize, reason).
  void validate() const;
};

class EngineRegistry {
 public:
  // The registry with every built-in engine, filled on first use (explicit registration: self-registering
  // statics would be dropped by the linker from a static library).
  static const EngineRegistry& global();
  // Every built-in engine, the parameterized ones as `options` says.
  static EngineRegistry with_options(const EngineOptions& options);

  void add(std::unique_ptr<Engine> engine);
  const std::vector<std::unique_ptr<Engine>>& engines() const { return engines_; }
  const Engine* find(const std::string& name) const;
  // A comma-separated list of variant names or family names ("cpu" = every cpu/ variant), "all", or "none" (empty).
  // Throws SettingError(Setting::Engines, ...) naming an unknown entry and listing the known ones.
  std::vector<const Engine*> select(const std::string& list) const;

 private:
  std::vector<std::unique_ptr<Engine>> engines_;
};

void register_cpu_engines(EngineRegistry& registry);
// gpu/ variants (core/src/engines/gpu): always listed; unavailable with the reason when there is no GPU or CUDA build.
void register_gpu_engines(EngineRegistry& registry);

}  // namespace nmscope
