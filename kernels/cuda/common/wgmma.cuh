#pragma once
// Hopper's warpgroup tensor-core instructions (sm_90a): the ordering instructions around wgmma.mma_async and the
// shared-memory matrix descriptor of operand B. The multiply-accumulate wrappers are generated: wgmma_ops.cuh.
#include <cstdint>

#include "wgmma_ops.cuh"

namespace nmscope::kernels::cuda::ptx {

// Orders this thread's earlier register writes (A fragments, accumulators) before the next wgmma.mma_async reads them.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
// Closes the wgmma.mma_async issued since the last commit into one group that wgmma_wait can count.
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most kPending committed groups are still running.
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}
// The compiler does not know that a running wgmma owns its accumulators: this pins each register's value in place
// (no move or copy across the wait) after wgmma_wait.
template <int kCount>
__device__ __forceinline__ void pin_registers(float (&values)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) asm volatile("" : "+f"(values[i])::"memory");
}
// The same for the A fragments and metadata of the next wgmma: computed in full before wgmma_fence, instead of being
// scheduled between the wgmma.mma_async that read them (which would serialize them).
template <int kCount>
__device__ __forceinline__ void pin_registers(uint32_t (&values)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) asm volatile("" : "+r"(values[i])::"memory");
}
template <int kCount>
__device__ __forceinline__ void pin_registers(uint64_t (&values)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) asm volatile("" : "+l"(values[i])::"memory");
}
// Shared memory written by ordinary stores or cp.async is read by wgmma through the async proxy: each writing thread
// fences before the barrier that publishes the data.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// Matrix descriptor of a K-major operand without swizzle: 8x8 fp16 "core matrices" of 128 contiguous bytes (8 rows
// of 16 bytes); `k_stride` bytes between core matrices adjacent along K (the leading-dimension offset), `n_stride`
// bytes between those adjacent along N (the stride-dimension offset). Addresses and offsets in 16-byte units.
__device__ __forceinline__ uint64_t matrix_descriptor(const void* shared, uint32_t k_stride, uint32_t n_stride) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(shared));
  return uint64_t((address >> 4) & 0x3fffu) | (uint64_t((k_stride >> 4) & 0x3fffu) << 16) |
         (uint64_t((n_stride >> 4) & 0x3fffu) << 32);
}

}  // namespace nmscope::kernels::cuda::ptx
