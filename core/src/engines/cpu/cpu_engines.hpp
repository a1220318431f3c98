#pragma once
// Factories of the CPU engine variants; register_cpu_engines() (cpu_engines.cpp) lists them in the registry.
#include <memory>

#include "nmscope/engine.hpp"

namespace nmscope {

std::unique_ptr<Engine> make_eigen_dense_engine();

}  // namespace nmscope
