#pragma once
// The oneDNN baseline module (nmscope/kernels/onednn_module.hpp), loaded once on first use, after the process has
// asked OpenMP for a passive wait policy (the header says why).
#include <string>

#include "nmscope/kernels/onednn_module.hpp"

namespace nmscope::engines {

struct OneDnnModule {
  nmscope_onednn_create_fn create = nullptr;
  nmscope_onednn_add_copy_fn add_copy = nullptr;
  nmscope_onednn_run_fn run = nullptr;
  nmscope_onednn_weight_bytes_fn weight_bytes = nullptr;
  nmscope_onednn_implementation_fn implementation = nullptr;
  nmscope_onednn_isa_fn isa = nullptr;
  nmscope_onednn_destroy_fn destroy = nullptr;
  std::string path;         // the file loaded
  std::string wait_policy;  // OMP_WAIT_POLICY as OpenMP read it
};

// The module, or nullptr with the reason (not built, not found, another version, oneDNN missing).
const OneDnnModule* onednn_module(std::string* reason);

}  // namespace nmscope::engines
