#pragma once
// The CPU half of `nmscope-cli decode`: the decoder step (core's CpuDecoder) on each cpu/ variant beside
// cpu/eigen-fp32-dense (and cpu/onednn-bf16-dense when asked for), printed with the same columns as the GPU rows. A
// packed variant's speedup is against the strongest dense baseline timed at its batch, named.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/cpu_decoder.hpp"
#include "nmscope/model.hpp"
#include "nmscope/results_store.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

struct CpuDecodeRequest {
  ModelConfig shape;            // synthetic weights of this shape when `model` is null
  const Model* model = nullptr;  // real weights
  std::vector<std::string> engines;
  std::vector<int64_t> batches;
  int64_t context = 512;
  uint64_t seed = 1;
  double timing_seconds = 0.5;
  bool json = false;
  // Each row also goes to this database (the Decode view's rows, decode_measurement.hpp) when set.
  ResultsStore* store = nullptr;
  std::string study_id;
  std::string model_name;  // the preset, or the model directory
  DecodeActivations activations = DecodeActivations::Fp32;  // of the packed variants
};

// Throws UsageError("--batch", needed vs available and what would fit) when the step's peak memory (with the largest
// checked variant's copy of the weights and its reference) would not fit the memory available now.
// run_cpu_decode_rows checks it too.
void check_cpu_decode_memory(const CpuDecodeRequest& request);

// Returns the number of rows measured. Throws UsageError("--engines", ...) for a name that is not a CPU decode variant.
int run_cpu_decode_rows(const CpuDecodeRequest& request);

}  // namespace nmscope::cli
