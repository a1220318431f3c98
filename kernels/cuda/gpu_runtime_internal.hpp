#pragma once
// Shared by the CUDA sources of kernels/cuda: failures as exceptions inside, RAII for device objects, and the
// one timing loop every GPU variant uses (device events around CUDA-graph replays over rotated weight copies).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nmscope/kernels/cuda/gpu_runtime.hpp"

namespace nmscope::kernels::cuda {

// Thrown inside kernels/cuda only; every public entry point catches it and reports the message.
struct GpuFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check_cuda(cudaError_t status, const char* what);

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return pointer_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(pointer_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* pointer_ = nullptr;
  size_t bytes_ = 0;
};

class Stream {
 public:
  Stream() { check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  Event() { check_cuda(cudaEventCreate(&event_), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

struct TimingResult {
  double median_us = 0, p10_us = 0, p90_us = 0;
  int repetitions = 0;
  bool graph = false;
};

// How many weight copies to rotate through so that the replayed sequence reads from memory, not the L2.
int rotation_copies_for(int64_t bytes_per_copy);
// launch(stream, copy) enqueues one call on weight copy `copy`; all copies are captured into one CUDA graph
// (plain launches when `use_graph` is false or capture fails) and each replay is timed with events.
TimingResult time_launches(const std::function<void(cudaStream_t, int)>& launch, int copies, const GpuTimingSpec& spec,
                           bool use_graph);
// fp32 [rows, cols] -> fp16 [padded_rows, padded_cols], zero padding (round to nearest even).
std::vector<__half> to_half_padded(const float* source, int64_t rows, int64_t cols, int64_t padded_rows,
                                   int64_t padded_cols);

}  // namespace nmscope::kernels::cuda
