#include "engines/cpu/onednn_module.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace nmscope::engines {

namespace {

struct Loaded {
  OneDnnModule module;
  std::string reason;  // empty when loaded
};

template <class Function>
bool find(void* handle, const char* name, Function* function, std::string* reason) {
  *function = reinterpret_cast<Function>(dlsym(handle, name));
  if (!*function) *reason = std::string("the oneDNN module has no ") + name;
  return *function != nullptr;
}

Loaded load() {
  Loaded loaded;
  // OpenMP reads its wait policy when libgomp is loaded: ask for a passive one unless the user chose one, and
  // before oneDNN brings libgomp in. If something loaded libgomp earlier, its policy is what it read then.
  const bool openmp_running = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD) != nullptr;
  const char* chosen = std::getenv("OMP_WAIT_POLICY");
  if (chosen)
    loaded.module.wait_policy = chosen;
  else if (openmp_running)
    loaded.module.wait_policy = "default (spinning): OpenMP was loaded before a policy was set";
  else {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    loaded.module.wait_policy = "PASSIVE";
  }

  // The build tree's module, then the installed one.
  const std::vector<std::string> candidates = {NMSCOPE_ONEDNN_MODULE, NMSCOPE_ONEDNN_INSTALLED_MODULE};
  void* handle = nullptr;
  std::string errors;
  for (const std::string& path : candidates) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      loaded.module.path = path;
      break;
    }
    const char* error = dlerror();
    errors += (errors.empty() ? "" : "; ") + std::string(error ? error : path);
  }
  if (!handle) {
    loaded.reason = "the oneDNN module could not be loaded (" + errors + ")";
    return loaded;
  }
  nmscope_onednn_version_fn version = nullptr;
  OneDnnModule& m = loaded.module;
  if (!find(handle, "nmscope_onednn_version", &version, &loaded.reason)) return loaded;
  if (version() != kOneDnnModuleVersion) {
    loaded.reason = m.path + " is version " + std::to_string(version()) + ", this build needs " +
                    std::to_string(kOneDnnModuleVersion);
    return loaded;
  }
  if (find(handle, "nmscope_onednn_create", &m.create, &loaded.reason) &&
      find(handle, "nmscope_onednn_add_copy", &m.add_copy, &loaded.reason) &&
      find(handle, "nmscope_onednn_run", &m.run, &loaded.reason) &&
      find(handle, "nmscope_onednn_weight_bytes", &m.weight_bytes, &loaded.reason) &&
      find(handle, "nmscope_onednn_implementation", &m.implementation, &loaded.reason) &&
      find(handle, "nmscope_onednn_isa", &m.isa, &loaded.reason) &&
      find(handle, "nmscope_onednn_destroy", &m.destroy, &loaded.reason))
    loaded.reason.clear();
  return loaded;
}

}  // namespace

const OneDnnModule* onednn_module(std::string* reason) {
  static const Loaded loaded = load();  // never unloaded: oneDNN's OpenMP threads outlive any one job
  if (!loaded.reason.empty()) {
    if (reason) *reason = loaded.reason;
    return nullptr;
  }
  return &loaded.module;
}

}  // namespace nmscope::engines
