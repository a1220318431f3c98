#pragma once
// Reproducing the study nmscope starts from (Hsieh et al., "FPGA Co-Design for Efficient N:M Sparse and Quantized
// Model Inference", 2025) with 2:4 + INT4, on every engine this build has: its four figures measured here, beside
// the paper's. How each figure is measured (docs/REPRODUCTION.md):
//   storage      weight bytes of a 4096x4096 layer packed 2:4 + INT4 (group-128 fp16 scales, metadata: everything
//                counted; the GPU's re-layout where it differs) against fp16;
//   matmul       the 4096x4096 layer at batch 1 against the engine family's dense baseline, timed in the same run
//                (cpu/eigen-fp32-dense, gpu/cublas-fp16-dense; the FPGA against the same array running dense INT4);
//   end-to-end   one LLaMA-7B decode step at batch 1, context 512: every linear layer, attention over the KV cache,
//                norms and head, against the same step with the dense baseline;
//   per-token    LLaMA-7B decode tokens/s at batch 16, context 512, against the dense baseline.
// The paper's numbers are the only typed-in figures, and they are labelled as the paper's.
#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nmscope/measurement.hpp"

namespace nmscope {

class ResultsStore;

struct PaperFigure {
  std::string key;    // "storage", "matmul", "end_to_end", "per_token"
  std::string label;  // what the paper measured
  double paper = 0;   // the paper's ratio against dense GPU (x)
};
const std::vector<PaperFigure>& hsieh2025_figures();

struct ReproductionCell {
  std::string figure;  // PaperFigure::key
  std::string family;  // "cpu", "gpu", "fpga"
  std::string engine;  // the variant measured, e.g. gpu/int4-2:4
  std::string baseline;
  double ours = std::nan("");  // our ratio (x); NaN when not measured
  std::string how;             // the two measured values behind the ratio
  std::string note;            // why not measured, when NaN
};

struct ReproductionOptions {
  std::vector<std::string> families = {"cpu", "gpu", "fpga"};
  int64_t context = 512;
  int64_t latency_batch = 1;
  int64_t throughput_batch = 16;
  double timing_seconds = 0.3;
  uint64_t seed = 1;
  std::function<void(const std::string&)> progress;  // one line per step, for a log
  const std::atomic<bool>* cancel = nullptr;
};

struct Reproduction {
  std::string study_id;  // the measurement rows stored under it
  std::vector<ReproductionCell> cells;
};

// Measures every figure on every family (a family whose engines are unavailable gets cells with the reason). Stores
// the matmul rows and one row per decode step in `store` (may be null). Throws Cancelled when cancelled.
Reproduction reproduce_hsieh2025(const ReproductionOptions& options, ResultsStore* store);

// The table as text (paper, ours per engine, ours / paper) and as Markdown with the command, machine and date.
std::string reproduction_table(const Reproduction& reproduction);
std::string reproduction_markdown(const Reproduction& reproduction, const std::string& command);

}  // namespace nmscope
