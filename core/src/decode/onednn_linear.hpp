#pragma once
// One linear layer of the CPU decode step on oneDNN's bf16 matmul (cpu/onednn-bf16-dense, issue 23): the dense
// baseline a CPU user would run instead of Eigen fp32. oneDNN fixes the batch when a product is created, so one
// product per batch is made on first use (the weights reordered to bf16 each time) and kept.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "nmscope/matrix.hpp"

struct nmscope_onednn_matmul;

namespace nmscope::engines {
struct OneDnnModule;
}

namespace nmscope {

class OneDnnLinear {
 public:
  // Throws Error naming cpu/onednn-bf16-dense when this machine has no oneDNN module.
  explicit OneDnnLinear(std::shared_ptr<const MatrixF> weights);
  ~OneDnnLinear();
  OneDnnLinear(const OneDnnLinear&) = delete;
  OneDnnLinear& operator=(const OneDnnLinear&) = delete;

  // y [batch, rows] = x [batch, cols] W^T, x rounded to bf16 inside the call, on `threads` OpenMP threads.
  void multiply(const MatrixF& x, MatrixF& y, int threads) const;
  // oneDNN's implementation and ISA for the products made so far ("brg:avx512_core_amx, avx512_core_amx").
  std::string implementation() const;

 private:
  nmscope_onednn_matmul* product(int64_t batch) const;

  std::shared_ptr<const MatrixF> weights_;  // fp32 [rows, cols]: shared with the fp32 reference
  const engines::OneDnnModule* module_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, nmscope_onednn_matmul*> products_;  // by batch
};

}  // namespace nmscope
