// gpu/cusparselt-fp16-2:4: y = x W^T with cuSPARSELt on the 2:4 weights, fp16 in and out, fp32 accumulation.
// The library is opened at run time (dlopen), so a machine without it lists the variant as unavailable with the
// reason instead of failing to link or start. Its plan is built, searched and compressed once per call of
// run_cusparselt_fp16_24 and then reused by every timed replay.
#include <dlfcn.h>

#include <sstream>

#include "gpu_runtime_internal.hpp"
#include "nmscope/kernels/cuda/library_gemm.hpp"

#if NMSCOPE_HAVE_CUSPARSELT
#include <cusparseLt.h>
#endif

namespace nmscope::kernels::cuda {

#if NMSCOPE_HAVE_CUSPARSELT
namespace {

#define NMSCOPE_CUSPARSELT_FUNCTIONS(X)                                                                         \
  X(cusparseLtInit)                                                                                             \
  X(cusparseLtDenseDescriptorInit)                                                                              \
  X(cusparseLtStructuredDescriptorInit)                                                                         \
  X(cusparseLtMatDescriptorDestroy)                                                                             \
  X(cusparseLtMatmulDescriptorInit)                                                                             \
  X(cusparseLtMatmulAlgSelectionInit)                                                                           \
  X(cusparseLtMatmulAlgSelectionDestroy)                                                                        \
  X(cusparseLtMatmulPlanInit) X(cusparseLtMatmulPlanDestroy) X(cusparseLtMatmulGetWorkspace)                    \
      X(cusparseLtSpMMACompressedSize) X(cusparseLtSpMMACompress) X(cusparseLtMatmul) X(cusparseLtMatmulSearch) \
          X(cusparseLtGetErrorString)

struct Library {
#define NMSCOPE_DECLARE(name) decltype(&::name) name = nullptr;
  NMSCOPE_CUSPARSELT_FUNCTIONS(NMSCOPE_DECLARE)
#undef NMSCOPE_DECLARE
  void* handle = nullptr;
  std::string path;
  std::string error;
  cusparseLtHandle_t context{};
};

const Library& library() {
  static const Library loaded = [] {
    Library lib;
    std::vector<std::string> candidates;
    if (const char* path = std::getenv("NMSCOPE_CUSPARSELT_LIBRARY")) candidates.push_back(path);
#ifdef NMSCOPE_CUSPARSELT_LIBRARY_DIR
    candidates.push_back(std::string(NMSCOPE_CUSPARSELT_LIBRARY_DIR) + "/libcusparseLt.so.0");
#endif
    candidates.push_back("libcusparseLt.so.0");
    std::string tried;
    for (const auto& candidate : candidates) {
      lib.handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib.handle) {
        lib.path = candidate;
        break;
      }
      tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
    }
    if (!lib.handle) {
      lib.error =
          "cuSPARSELt not found (pip install nvidia-cusparselt-cu13, or set NMSCOPE_CUSPARSELT_LIBRARY): " + tried;
      return lib;
    }
#define NMSCOPE_RESOLVE(name)                                               \
  lib.name = reinterpret_cast<decltype(&::name)>(dlsym(lib.handle, #name)); \
  if (!lib.name) {                                                          \
    lib.error = std::string(lib.path) + " has no " #name;                   \
    return lib;                                                             \
  }
    NMSCOPE_CUSPARSELT_FUNCTIONS(NMSCOPE_RESOLVE)
#undef NMSCOPE_RESOLVE
    if (device_status().available) {
      const cusparseStatus_t status = lib.cusparseLtInit(&lib.context);
      if (status != CUSPARSE_STATUS_SUCCESS)
        lib.error = std::string("cusparseLtInit: ") + lib.cusparseLtGetErrorString(status);
    } else {
      lib.error = device_status().reason;
    }
    return lib;
  }();
  return loaded;
}

void check_sparse(cusparseStatus_t status, const char* what) {
  if (status != CUSPARSE_STATUS_SUCCESS)
    throw GpuFailure(std::string(what) + ": " + library().cusparseLtGetErrorString(status));
}

}  // namespace
#endif

const DeviceStatus& cusparselt_status() {
  static const DeviceStatus status = [] {
    DeviceStatus found = device_status();
#if NMSCOPE_HAVE_CUSPARSELT
    if (found.available && !library().error.empty()) {
      found.available = false;
      found.reason = library().error;
    }
#else
    found.available = false;
    found.reason = "built without the cuSPARSELt header (pip install nvidia-cusparselt-cu13, then reconfigure)";
#endif
    return found;
  }();
  return status;
}

GpuRun run_cusparselt_fp16_24(const float* weights, int64_t rows, int64_t cols, const float* x, int64_t batch,
                              const GpuTimingSpec& timing) {
  GpuRun run;
#if NMSCOPE_HAVE_CUSPARSELT
  struct Objects {
    cusparseLtMatDescriptor_t a{}, b{}, c{};
    cusparseLtMatmulDescriptor_t operation{};
    cusparseLtMatmulAlgSelection_t selection{};
    cusparseLtMatmulPlan_t plan{};
    bool has_a = false, has_b = false, has_c = false, has_selection = false, has_plan = false;
    ~Objects() {
      const Library& lib = library();
      if (has_plan) lib.cusparseLtMatmulPlanDestroy(&plan);
      if (has_selection) lib.cusparseLtMatmulAlgSelectionDestroy(&selection);
      if (has_c) lib.cusparseLtMatDescriptorDestroy(&c);
      if (has_b) lib.cusparseLtMatDescriptorDestroy(&b);
      if (has_a) lib.cusparseLtMatDescriptorDestroy(&a);
    }
  };
  try {
    const DeviceStatus& status = cusparselt_status();
    if (!status.available) throw GpuFailure(status.reason);
    const Library& lib = library();
    const cusparseLtHandle_t* handle = &lib.context;
    // cuSPARSELt wants the dense operand's columns in multiples of 16 (fp16): the batch is padded with zero rows.
    const int64_t batch_pad = (batch + 15) / 16 * 16;
    const int64_t cols_pad = (cols + 15) / 16 * 16;
    const int64_t rows_pad = (rows + 15) / 16 * 16;
    const std::vector<__half> w_half = to_half_padded(weights, rows, cols, rows_pad, cols_pad);
    const std::vector<__half> x_half = to_half_padded(x, batch, cols, batch_pad, cols_pad);

    // Row-major A = W [rows, K] (structured), column-major B = x^T [K, batch], column-major C = y^T [rows, batch].
    Objects objects;
    const unsigned alignment = 16;
    check_sparse(lib.cusparseLtStructuredDescriptorInit(handle, &objects.a, rows_pad, cols_pad, cols_pad, alignment,
                                                        CUDA_R_16F, CUSPARSE_ORDER_ROW, CUSPARSELT_SPARSITY_50_PERCENT),
                 "structured descriptor");
    objects.has_a = true;
    check_sparse(lib.cusparseLtDenseDescriptorInit(handle, &objects.b, cols_pad, batch_pad, cols_pad, alignment,
                                                   CUDA_R_16F, CUSPARSE_ORDER_COL),
                 "dense descriptor B");
    objects.has_b = true;
    check_sparse(lib.cusparseLtDenseDescriptorInit(handle, &objects.c, rows_pad, batch_pad, rows_pad, alignment,
                                                   CUDA_R_16F, CUSPARSE_ORDER_COL),
                 "dense descriptor C");
    objects.has_c = true;
    check_sparse(lib.cusparseLtMatmulDescriptorInit(handle, &objects.operation, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                                    CUSPARSE_OPERATION_NON_TRANSPOSE, &objects.a, &objects.b,
                                                    &objects.c, &objects.c, CUSPARSE_COMPUTE_32F),
                 "matmul descriptor");
    check_sparse(lib.cusparseLtMatmulAlgSelectionInit(handle, &objects.selection, &objects.operation,
                                                      CUSPARSELT_MATMUL_ALG_DEFAULT),
                 "algorithm selection");
    objects.has_selection = true;
    check_sparse(lib.cusparseLtMatmulPlanInit(handle, &objects.plan, &objects.operation, &objects.selection), "plan");
    objects.has_plan = true;

    size_t compressed_bytes = 0, compress_buffer_bytes = 0, workspace_bytes = 0;
    check_sparse(lib.cusparseLtSpMMACompressedSize(handle, &objects.plan, &compressed_bytes, &compress_buffer_bytes),
                 "compressed size");
    check_sparse(lib.cusparseLtMatmulGetWorkspace(handle, &objects.plan, &workspace_bytes), "workspace size");
    const size_t compressed_stride = (compressed_bytes + 255) / 256 * 256;
    run.weight_bytes = int64_t(compressed_bytes);
    run.copies = rotation_copies_for(int64_t(compressed_bytes));
    DeviceBuffer dense(w_half.size() * 2);
    check_cuda(cudaMemcpy(dense.get(), w_half.data(), w_half.size() * 2, cudaMemcpyHostToDevice), "upload W");
    DeviceBuffer compressed(compressed_stride * size_t(run.copies));
    DeviceBuffer compress_buffer(std::max<size_t>(compress_buffer_bytes, 256));
    DeviceBuffer workspace(std::max<size_t>(workspace_bytes, 256));
    {
      Stream stream;
      for (int copy = 0; copy < run.copies; ++copy)
        check_sparse(lib.cusparseLtSpMMACompress(handle, &objects.plan, dense.get(),
                                                 compressed.as<uint8_t>() + copy * compressed_stride,
                                                 compress_buffer.get(), stream.get()),
                     "compress");
      check_cuda(cudaStreamSynchronize(stream.get()), "compress");
    }
    DeviceBuffer x_device(x_half.size() * 2);
    check_cuda(cudaMemcpy(x_device.get(), x_half.data(), x_half.size() * 2, cudaMemcpyHostToDevice), "upload x");
    const size_t y_bytes = size_t(rows_pad * batch_pad * 2);
    DeviceBuffer y_device(y_bytes);

    const float alpha = 1.0f, beta = 0.0f;
    {
      Stream stream;
      cudaStream_t streams[1] = {stream.get()};
      check_sparse(lib.cusparseLtMatmulSearch(handle, &objects.plan, &alpha, compressed.get(), x_device.get(), &beta,
                                              y_device.get(), y_device.get(), workspace.get(), streams, 1),
                   "cusparseLtMatmulSearch");
      check_cuda(cudaStreamSynchronize(stream.get()), "search");
    }
    auto launch = [&](cudaStream_t stream, int copy) {
      cudaStream_t streams[1] = {stream};
      check_sparse(
          lib.cusparseLtMatmul(handle, &objects.plan, &alpha, compressed.as<uint8_t>() + copy * compressed_stride,
                               x_device.get(), &beta, y_device.get(), y_device.get(), workspace.get(), streams, 1),
          "cusparseLtMatmul");
    };
    {
      Stream stream;
      check_cuda(cudaMemset(y_device.get(), 0xff, y_bytes), "poison y");
      launch(stream.get(), 0);
      check_cuda(cudaStreamSynchronize(stream.get()), "cusparseLtMatmul");
    }
    std::vector<__half> y_half(size_t(rows_pad * batch_pad));
    check_cuda(cudaMemcpy(y_half.data(), y_device.get(), y_bytes, cudaMemcpyDeviceToHost), "download y");
    run.output.resize(size_t(batch * rows));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r)
        run.output[size_t(b * rows + r)] = __half2float(y_half[size_t(b * rows_pad + r)]);

    const TimingResult timed = time_launches(launch, run.copies, timing, true);
    run.median_us = timed.median_us;
    run.p10_us = timed.p10_us;
    run.p90_us = timed.p90_us;
    run.repetitions = timed.repetitions;
    std::ostringstream config;
    config << "cuSPARSELt " << lib.path << ", plan searched once";
    if (batch_pad != batch) config << ", batch padded to " << batch_pad;
    config << (timed.graph ? ", CUDA graph" : ", plain launches");
    run.config = config.str();
    run.ok = true;
  } catch (const std::exception& error) {
    run.ok = false;
    run.error = error.what();
    cudaGetLastError();
  }
#else
  (void)weights, (void)rows, (void)cols, (void)x, (void)batch, (void)timing;
  run.error = cusparselt_status().reason;
#endif
  return run;
}

#if NMSCOPE_HAVE_CUSPARSELT
struct CusparseLtGemm::Objects {
  cusparseLtMatDescriptor_t a{}, b{}, c{};
  cusparseLtMatmulDescriptor_t operation{};
  cusparseLtMatmulAlgSelection_t selection{};
  cusparseLtMatmulPlan_t plan{};
  bool has_a = false, has_b = false, has_c = false, has_selection = false, has_plan = false;
  int64_t rows = 0, cols = 0, batch_pad = 0;
  size_t compressed_bytes = 0, compress_buffer_bytes = 0, workspace_bytes = 0;
  std::unique_ptr<DeviceBuffer> workspace, compress_buffer;
  ~Objects() {
    const Library& lib = library();
    if (has_plan) lib.cusparseLtMatmulPlanDestroy(&plan);
    if (has_selection) lib.cusparseLtMatmulAlgSelectionDestroy(&selection);
    if (has_c) lib.cusparseLtMatDescriptorDestroy(&c);
    if (has_b) lib.cusparseLtMatDescriptorDestroy(&b);
    if (has_a) lib.cusparseLtMatDescriptorDestroy(&a);
  }
};

CusparseLtGemm::CusparseLtGemm(int64_t rows, int64_t cols, int64_t batch) : objects_(std::make_unique<Objects>()) {
  const DeviceStatus& status = cusparselt_status();
  if (!status.available) throw GpuFailure(status.reason);
  if (rows % 16 != 0 || cols % 16 != 0) throw GpuFailure("cuSPARSELt layers need rows and columns in multiples of 16");
  const Library& lib = library();
  const cusparseLtHandle_t* handle = &lib.context;
  Objects& o = *objects_;
  o.rows = rows, o.cols = cols, o.batch_pad = (batch + 15) / 16 * 16;
  const unsigned alignment = 16;
  // Row-major A = W [rows, K] (structured), column-major B = x^T [K, batch], column-major C = y^T [rows, batch].
  check_sparse(lib.cusparseLtStructuredDescriptorInit(handle, &o.a, rows, cols, cols, alignment, CUDA_R_16F,
                                                      CUSPARSE_ORDER_ROW, CUSPARSELT_SPARSITY_50_PERCENT),
               "structured descriptor");
  o.has_a = true;
  check_sparse(lib.cusparseLtDenseDescriptorInit(handle, &o.b, cols, o.batch_pad, cols, alignment, CUDA_R_16F,
                                                 CUSPARSE_ORDER_COL),
               "dense descriptor B");
  o.has_b = true;
  check_sparse(lib.cusparseLtDenseDescriptorInit(handle, &o.c, rows, o.batch_pad, rows, alignment, CUDA_R_16F,
                                                 CUSPARSE_ORDER_COL),
               "dense descriptor C");
  o.has_c = true;
  check_sparse(lib.cusparseLtMatmulDescriptorInit(handle, &o.operation, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                                  CUSPARSE_OPERATION_NON_TRANSPOSE, &o.a, &o.b, &o.c, &o.c,
                                                  CUSPARSE_COMPUTE_32F),
               "matmul descriptor");
  check_sparse(lib.cusparseLtMatmulAlgSelectionInit(handle, &o.selection, &o.operation, CUSPARSELT_MATMUL_ALG_DEFAULT),
               "algorithm selection");
  o.has_selection = true;
  check_sparse(lib.cusparseLtMatmulPlanInit(handle, &o.plan, &o.operation, &o.selection), "plan");
  o.has_plan = true;
  check_sparse(lib.cusparseLtSpMMACompressedSize(handle, &o.plan, &o.compressed_bytes, &o.compress_buffer_bytes),
               "compressed size");
  check_sparse(lib.cusparseLtMatmulGetWorkspace(handle, &o.plan, &o.workspace_bytes), "workspace size");
  o.workspace = std::make_unique<DeviceBuffer>(std::max<size_t>(o.workspace_bytes, 256));
  o.compress_buffer = std::make_unique<DeviceBuffer>(std::max<size_t>(o.compress_buffer_bytes, 256));
}

CusparseLtGemm::~CusparseLtGemm() = default;
int64_t CusparseLtGemm::batch_padded() const { return objects_->batch_pad; }
size_t CusparseLtGemm::compressed_bytes() const { return objects_->compressed_bytes; }

void CusparseLtGemm::compress(const __half* dense, void* compressed, cudaStream_t stream) {
  check_sparse(library().cusparseLtSpMMACompress(&library().context, &objects_->plan, dense, compressed,
                                                 objects_->compress_buffer->get(), stream),
               "compress");
}

void CusparseLtGemm::search(const void* compressed, const __half* x, __half* y) {
  const float alpha = 1.0f, beta = 0.0f;
  Stream stream;
  cudaStream_t streams[1] = {stream.get()};
  check_sparse(library().cusparseLtMatmulSearch(&library().context, &objects_->plan, &alpha, compressed, x, &beta, y, y,
                                                objects_->workspace->get(), streams, 1),
               "cusparseLtMatmulSearch");
  check_cuda(cudaStreamSynchronize(stream.get()), "search");
}

void CusparseLtGemm::launch(const void* compressed, const __half* x, __half* y, cudaStream_t stream) const {
  const float alpha = 1.0f, beta = 0.0f;
  cudaStream_t streams[1] = {stream};
  check_sparse(library().cusparseLtMatmul(&library().context, &objects_->plan, &alpha, compressed, x, &beta, y, y,
                                          objects_->workspace->get(), streams, 1),
               "cusparseLtMatmul");
}

std::string CusparseLtGemm::describe() const {
  return "cuSPARSELt 2:4 fp16, plan searched once, batch padded to " + std::to_string(objects_->batch_pad);
}
#else
struct CusparseLtGemm::Objects {};
CusparseLtGemm::CusparseLtGemm(int64_t, int64_t, int64_t) { throw GpuFailure(cusparselt_status().reason); }
CusparseLtGemm::~CusparseLtGemm() = default;
int64_t CusparseLtGemm::batch_padded() const { return 0; }
size_t CusparseLtGemm::compressed_bytes() const { return 0; }
void CusparseLtGemm::compress(const __half*, void*, cudaStream_t) {}
void CusparseLtGemm::search(const void*, const __half*, __half*) {}
void CusparseLtGemm::launch(const void*, const __half*, __half*, cudaStream_t) const {}
std::string CusparseLtGemm::describe() const { return ""; }
#endif

}  // namespace nmscope::kernels::cuda
