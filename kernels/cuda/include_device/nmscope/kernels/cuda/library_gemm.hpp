#pragma once
// The library baselines as prepared linear layers on device pointers (the decoder step's gpu/cublas-fp16-dense and
// gpu/cusparselt-fp16-2:4): descriptors and the algorithm chosen once per (shape, batch), then one launch per call,
// capturable in a CUDA graph. y = x W^T with W fp16 [rows, cols] row-major, x fp16 [batch][cols].
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

namespace nmscope::kernels::cuda {

// cuBLASLt, fp16 operands, fp32 accumulation and fp32 output y [batch][rows].
class CublasLtGemm {
 public:
  CublasLtGemm(int64_t rows, int64_t cols, int64_t batch, void* workspace, size_t workspace_bytes);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;
  // Times each heuristic candidate over the weight copies (rotated past the L2) and keeps the fastest.
  void choose_fastest(const std::vector<const __half*>& weight_copies, const __half* x, float* y);
  void launch(const __half* weights, const __half* x, float* y, cudaStream_t stream) const;
  std::string describe() const;

 private:
  struct Objects;
  std::unique_ptr<Objects> objects_;
};

// cuSPARSELt 2:4, fp16 in and out (fp32 accumulation); the batch is padded to a multiple of 16 (x must have
// batch_padded() readable rows, y [batch_padded()][rows]). Rows and columns must be multiples of 16.
class CusparseLtGemm {
 public:
  CusparseLtGemm(int64_t rows, int64_t cols, int64_t batch);
  ~CusparseLtGemm();
  CusparseLtGemm(const CusparseLtGemm&) = delete;
  CusparseLtGemm& operator=(const CusparseLtGemm&) = delete;
  int64_t batch_padded() const;
  size_t compressed_bytes() const;
  // dense: fp16 [rows, cols] row-major, 2:4 along each row; compressed: compressed_bytes() on the device.
  void compress(const __half* dense, void* compressed, cudaStream_t stream);
  // The library's own algorithm search (cusparseLtMatmulSearch), once, on one compressed copy.
  void search(const void* compressed, const __half* x, __half* y);
  void launch(const void* compressed, const __half* x, __half* y, cudaStream_t stream) const;
  std::string describe() const;

 private:
  struct Objects;
  std::unique_ptr<Objects> objects_;
};

}  // namespace nmscope::kernels::cuda
