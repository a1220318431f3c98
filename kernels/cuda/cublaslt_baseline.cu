// gpu/cublas-fp16-dense: y = x W^T with cuBLASLt, fp16 operands and output, fp32 accumulation. The heuristic's
// candidates are each timed briefly and the fastest is then measured like every other variant.
#include <cublasLt.h>

#include <algorithm>
#include <sstream>

#include "gpu_runtime_internal.hpp"
#include "nmscope/kernels/cuda/library_gemm.hpp"

namespace nmscope::kernels::cuda {

namespace {

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw GpuFailure(std::string(what) + ": cuBLAS status " + std::to_string(int(status)));
}

struct LtObjects {
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  ~LtObjects() {
    if (preference) cublasLtMatmulPreferenceDestroy(preference);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (operation) cublasLtMatmulDescDestroy(operation);
    if (handle) cublasLtDestroy(handle);
  }

  // y = x W^T in cuBLASLt's column-major view: C[rows, batch] = op(A)[rows, K] B[K, batch], A = W as [K, rows]
  // transposed, B = x as [K, batch], C = y [batch, rows] row-major, of type `output`. Fills up to 8 heuristic
  // candidates into `candidates` and returns how many there are.
  int create(int64_t rows, int64_t cols, int64_t batch, cudaDataType_t output, const size_t& workspace_bytes,
             cublasLtMatmulHeuristicResult_t (&candidates)[8]) {
    check_cublas(cublasLtCreate(&handle), "cublasLtCreate");
    check_cublas(cublasLtMatmulDescCreate(&operation, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
    check_cublas(cublasLtMatmulDescSetAttribute(operation, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)),
                 "TRANSA");
    check_cublas(cublasLtMatmulDescSetAttribute(operation, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof(keep)), "TRANSB");
    check_cublas(cublasLtMatrixLayoutCreate(&a, CUDA_R_16F, uint64_t(cols), uint64_t(rows), cols), "layout A");
    check_cublas(cublasLtMatrixLayoutCreate(&b, CUDA_R_16F, uint64_t(cols), uint64_t(batch), cols), "layout B");
    check_cublas(cublasLtMatrixLayoutCreate(&c, output, uint64_t(rows), uint64_t(batch), rows), "layout C");
    check_cublas(cublasLtMatmulPreferenceCreate(&preference), "preference");
    check_cublas(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                      &workspace_bytes, sizeof(workspace_bytes)),
                 "workspace preference");
    int found = 0;
    check_cublas(cublasLtMatmulAlgoGetHeuristic(handle, operation, a, b, c, c, preference, 8, candidates, &found),
                 "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) throw GpuFailure("cuBLASLt has no algorithm for this shape");
    return found;
  }
};

}  // namespace

GpuRun run_cublas_fp16(const float* weights, int64_t rows, int64_t cols, const float* x, int64_t batch,
                       const GpuTimingSpec& timing) {
  GpuRun run;
  try {
    const DeviceStatus& device = device_status();
    if (!device.available) throw GpuFailure(device.reason);
    const std::vector<__half> w_half = to_half_padded(weights, rows, cols, rows, cols);
    const std::vector<__half> x_half = to_half_padded(x, batch, cols, batch, cols);
    const int64_t weight_bytes = rows * cols * 2;
    run.weight_bytes = weight_bytes;
    run.copies = rotation_copies_for(weight_bytes);
    DeviceBuffer w_device(size_t(weight_bytes * run.copies));
    for (int copy = 0; copy < run.copies; ++copy)
      check_cuda(cudaMemcpy(w_device.as<__half>() + copy * rows * cols, w_half.data(), size_t(weight_bytes),
                            cudaMemcpyHostToDevice),
                 "upload W");
    DeviceBuffer x_device(x_half.size() * 2);
    check_cuda(cudaMemcpy(x_device.get(), x_half.data(), x_half.size() * 2, cudaMemcpyHostToDevice), "upload x");
    DeviceBuffer y_device(size_t(batch * rows * 2));
    const size_t workspace_bytes = 32u << 20;
    DeviceBuffer workspace(workspace_bytes);

    LtObjects lt;
    cublasLtMatmulHeuristicResult_t candidates[8];
    const int found = lt.create(rows, cols, batch, CUDA_R_16F, workspace_bytes, candidates);

    const float alpha = 1.0f, beta = 0.0f;
    int chosen = 0;
    auto launch_with = [&](int candidate) {
      return [&, candidate](cudaStream_t stream, int copy) {
        check_cublas(cublasLtMatmul(lt.handle, lt.operation, &alpha, w_device.as<__half>() + copy * rows * cols, lt.a,
                                    x_device.get(), lt.b, &beta, y_device.get(), lt.c, y_device.get(), lt.c,
                                    &candidates[candidate].algo, workspace.get(), workspace_bytes, stream),
                     "cublasLtMatmul");
      };
    };
    if (found > 1) {
      GpuTimingSpec quick;
      quick.warmup = 1;
      quick.min_repetitions = 3;
      quick.max_repetitions = 10;
      quick.target_seconds = 0.02;
      double best = 1e30;
      for (int candidate = 0; candidate < found; ++candidate) {
        try {
          const TimingResult trial = time_launches(launch_with(candidate), run.copies, quick, true);
          if (trial.median_us < best) best = trial.median_us, chosen = candidate;
        } catch (const GpuFailure&) {
          cudaGetLastError();
        }
      }
    }
    {
      Stream stream;
      check_cuda(cudaMemset(y_device.get(), 0xff, size_t(batch * rows * 2)), "poison y");
      launch_with(chosen)(stream.get(), 0);
      check_cuda(cudaStreamSynchronize(stream.get()), "cublasLtMatmul");
    }
    std::vector<__half> y_half(size_t(batch * rows));
    check_cuda(cudaMemcpy(y_half.data(), y_device.get(), y_half.size() * 2, cudaMemcpyDeviceToHost), "download y");
    run.output.resize(y_half.size());
    for (size_t index = 0; index < y_half.size(); ++index) run.output[index] = __half2float(y_half[index]);

    const TimingResult timed = time_launches(launch_with(chosen), run.copies, timing, true);
    run.median_us = timed.median_us;
    run.p10_us = timed.p10_us;
    run.p90_us = timed.p90_us;
    run.repetitions = timed.repetitions;
    std::ostringstream config;
    config << "cuBLASLt fp16, fp32 accumulate, fp16 out; algorithm " << chosen + 1 << " of " << found
           << " heuristic candidates" << (timed.graph ? ", CUDA graph" : "");
    run.config = config.str();
    run.ok = true;
  } catch (const std::exception& error) {
    run.ok = false;
    run.error = error.what();
    cudaGetLastError();
  }
  return run;
}

struct CublasLtGemm::Objects {
  LtObjects lt;
  cublasLtMatmulHeuristicResult_t candidates[8];
  int found = 0, chosen = 0;
  int64_t rows = 0, cols = 0, batch = 0;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

CublasLtGemm::CublasLtGemm(int64_t rows, int64_t cols, int64_t batch, void* workspace, size_t workspace_bytes)
    : objects_(std::make_unique<Objects>()) {
  Objects& o = *objects_;
  o.rows = rows, o.cols = cols, o.batch = batch, o.workspace = workspace, o.workspace_bytes = workspace_bytes;
  LtObjects& lt = o.lt;
  // C is fp32 here, so the decoder reads full-precision sums.
  o.found = lt.create(rows, cols, batch, CUDA_R_32F, o.workspace_bytes, o.candidates);
}

CublasLtGemm::~CublasLtGemm() = default;

void CublasLtGemm::launch(const __half* weights, const __half* x, float* y, cudaStream_t stream) const {
  const Objects& o = *objects_;
  const float alpha = 1.0f, beta = 0.0f;
  check_cublas(cublasLtMatmul(o.lt.handle, o.lt.operation, &alpha, weights, o.lt.a, x, o.lt.b, &beta, y, o.lt.c, y,
                              o.lt.c, &o.candidates[o.chosen].algo, o.workspace, o.workspace_bytes, stream),
               "cublasLtMatmul");
}

void CublasLtGemm::choose_fastest(const std::vector<const __half*>& weight_copies, const __half* x, float* y) {
  Objects& o = *objects_;
  if (o.found <= 1) return;
  GpuTimingSpec quick;
  quick.warmup = 1;
  quick.min_repetitions = 3;
  quick.max_repetitions = 10;
  quick.target_seconds = 0.02;
  double best = 1e30;
  int fastest = 0;
  for (int candidate = 0; candidate < o.found; ++candidate) {
    o.chosen = candidate;
    try {
      const TimingResult trial =
          time_launches([&](cudaStream_t stream, int copy) { launch(weight_copies[size_t(copy)], x, y, stream); },
                        int(weight_copies.size()), quick, true);
      if (trial.median_us < best) best = trial.median_us, fastest = candidate;
    } catch (const GpuFailure&) {
      cudaGetLastError();
    }
  }
  o.chosen = fastest;
}

std::string CublasLtGemm::describe() const {
  return "cuBLASLt fp16, fp32 out, algorithm " + std::to_string(objects_->chosen + 1) + " of " +
         std::to_string(objects_->found);
}

}  // namespace nmscope::kernels::cuda
