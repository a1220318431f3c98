#pragma once
// Factories of the CPU engine variants; register_cpu_engines() (cpu_engines.cpp) lists them in the registry.
#include <memory>
#include <vector>

#include "nmscope/engine.hpp"

namespace nmscope {

std::unique_ptr<Engine> make_eigen_dense_engine();
std::unique_ptr<Engine> make_onednn_dense_engine();
std::vector<std::unique_ptr<Engine>> make_packed_kernel_engines();

}  // namespace nmscope
