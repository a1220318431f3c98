// The decoder step in a build without CUDA (decoder_step.cuda.cpp otherwise): every run says why, in the words of the
// kernels' stub (device_status().reason), and nothing is measured.
#include "nmscope/gpu_decoder.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"

namespace nmscope {

// The kernels, their launchers and the device objects this step is built on.
using namespace kernels::cuda;

int64_t gpu_free_bytes() { return 0; }

std::vector<DecodeRun> run_decoder(const DecoderWeights&, const std::vector<DecodeCase>& cases, const DecodeTiming&) {
  std::vector<DecodeRun> runs(cases.size());
  for (size_t index = 0; index < cases.size(); ++index) {
    runs[index].batch = cases[index].batch;
    runs[index].context = cases[index].context;
    runs[index].error = device_status().reason;
  }
  return runs;
}

TokenDecodeRun decode_tokens(const DecoderWeights&, int64_t, const std::vector<int64_t>&) {
  TokenDecodeRun run;
  run.error = device_status().reason;
  return run;
}

}  // namespace nmscope
