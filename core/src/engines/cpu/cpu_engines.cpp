#include "engines/cpu/cpu_engines.hpp"

#include "nmscope/engine_registry.hpp"

namespace nmscope {

void register_cpu_engines(EngineRegistry& registry) {
  registry.add(make_eigen_dense_engine());
  registry.add(make_onednn_dense_engine());
  for (auto& engine : make_packed_kernel_engines()) registry.add(std::move(engine));
}

}  // namespace nmscope
