#pragma once
#include "nmscope/engine_registry.hpp"

namespace nmscope {
// One fpga/systolic-RxC engine per array size of `options`.
void register_fpga_engines(EngineRegistry& registry, const EngineOptions& options);
}  // namespace nmscope
