// CUPTI activity tracing through dlopen (kernel_trace.hpp). Activity buffers are handed to CUPTI and come back on
// its own thread, hence the mutex around the records.
#include "nmscope/kernels/cuda/kernel_trace.hpp"

#include <cupti.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace nmscope::kernels::cuda {

namespace {

struct Cupti {
  decltype(&::cuptiActivityEnable) enable = nullptr;
  decltype(&::cuptiActivityDisable) disable = nullptr;
  decltype(&::cuptiActivityRegisterCallbacks) register_callbacks = nullptr;
  decltype(&::cuptiActivityFlushAll) flush_all = nullptr;
  decltype(&::cuptiActivityGetNextRecord) next_record = nullptr;
  std::string error;
  bool callbacks_registered = false;
};

Cupti& cupti() {
  static Cupti loaded = [] {
    Cupti api;
    std::vector<std::string> candidates;
    if (const char* path = std::getenv("NMSCOPE_CUPTI_LIBRARY")) candidates.push_back(path);
#ifdef NMSCOPE_CUPTI_LIBRARY_DIR
    candidates.push_back(std::string(NMSCOPE_CUPTI_LIBRARY_DIR) + "/libcupti.so");
#endif
    candidates.push_back("libcupti.so");
    candidates.push_back("libcupti.so.13");
    void* handle = nullptr;
    for (const auto& candidate : candidates)
      if ((handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL))) break;
    if (!handle) {
      api.error = "libcupti not found (set NMSCOPE_CUPTI_LIBRARY)";
      return api;
    }
    api.enable = reinterpret_cast<decltype(api.enable)>(dlsym(handle, "cuptiActivityEnable"));
    api.disable = reinterpret_cast<decltype(api.disable)>(dlsym(handle, "cuptiActivityDisable"));
    api.register_callbacks =
        reinterpret_cast<decltype(api.register_callbacks)>(dlsym(handle, "cuptiActivityRegisterCallbacks"));
    api.flush_all = reinterpret_cast<decltype(api.flush_all)>(dlsym(handle, "cuptiActivityFlushAll"));
    api.next_record = reinterpret_cast<decltype(api.next_record)>(dlsym(handle, "cuptiActivityGetNextRecord"));
    if (!api.enable || !api.disable || !api.register_callbacks || !api.flush_all || !api.next_record)
      api.error = "libcupti lacks the activity API";
    return api;
  }();
  return loaded;
}

std::mutex records_mutex;
std::vector<KernelRecord>* collected = nullptr;
constexpr size_t kBufferBytes = 8u << 20;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid_bytes) {
  {
    std::lock_guard<std::mutex> lock(records_mutex);
    CUpti_Activity* record = nullptr;
    while (collected && cupti().next_record(buffer, valid_bytes, &record) == CUPTI_SUCCESS) {
      if (record->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || record->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
        const auto* kernel = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
        collected->push_back({kernel->name ? kernel->name : "?", kernel->start, kernel->end});
      } else if (record->kind == CUPTI_ACTIVITY_KIND_MEMSET) {
        const auto* memset = reinterpret_cast<const CUpti_ActivityMemset4*>(record);
        collected->push_back({"memset", memset->start, memset->end});
      }
    }
  }
  std::free(buffer);
}

}  // namespace

KernelTrace trace_kernels(const std::function<void()>& work) {
  KernelTrace trace;
  Cupti& api = cupti();
  if (!api.error.empty()) {
    trace.error = api.error;
    work();
    return trace;
  }
  if (!api.callbacks_registered) {
    if (api.register_callbacks(buffer_requested, buffer_completed) != CUPTI_SUCCESS) {
      trace.error = "cuptiActivityRegisterCallbacks failed";
      work();
      return trace;
    }
    api.callbacks_registered = true;
  }
  std::vector<KernelRecord> records;
  {
    std::lock_guard<std::mutex> lock(records_mutex);
    collected = &records;
  }
  const bool enabled = api.enable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) == CUPTI_SUCCESS;
  api.enable(CUPTI_ACTIVITY_KIND_MEMSET);
  work();
  api.flush_all(1);
  api.disable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  api.disable(CUPTI_ACTIVITY_KIND_MEMSET);
  api.flush_all(1);
  {
    std::lock_guard<std::mutex> lock(records_mutex);
    collected = nullptr;
  }
  if (!enabled) {
    trace.error = "cuptiActivityEnable(CONCURRENT_KERNEL) failed";
    return trace;
  }
  std::sort(records.begin(), records.end(),
            [](const KernelRecord& a, const KernelRecord& b) { return a.start_ns < b.start_ns; });
  trace.kernels = std::move(records);
  trace.ok = !trace.kernels.empty();
  if (!trace.ok) trace.error = "CUPTI returned no kernel records";
  return trace;
}

}  // namespace nmscope::kernels::cuda
