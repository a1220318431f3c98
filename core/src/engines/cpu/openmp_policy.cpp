#include "nmscope/openmp_policy.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace nmscope {

void restart_with_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;                   // the user's choice, or the restarted process
  if (!dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD)) return;  // oneDNN's module will set it before loading OpenMP
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
}

}  // namespace nmscope
