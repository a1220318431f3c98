#pragma once
// PTX wrappers of the tensor-core kernels, one line each on why they exist. sm_80+ instructions; built for sm_90a.
#include <cuda_fp16.h>

#include <cstdint>

namespace nmscope::kernels::cuda::ptx {

// An L2 policy that lets streamed weights leave the L2 first, so activations and outputs stay resident.
__device__ __forceinline__ uint64_t evict_first_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
  return policy;
}

// The default policy, for weight tiles that several CTAs read (large batch).
__device__ __forceinline__ uint64_t evict_normal_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_normal.b64 %0, 1.0;\n" : "=l"(policy));
  return policy;
}

// 16-byte global -> shared copy that bypasses L1 and registers (cp.async), with an L2 cache hint.
__device__ __forceinline__ void cp_async_16(void* shared, const void* global, uint64_t policy) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(shared));
  asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;\n" ::"r"(address), "l"(global),
               "l"(policy));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Four 8x8 fp16 matrices from shared memory in the register layout of an mma operand (one instruction, no
// bank conflicts on padded rows).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&registers)[4], const void* shared) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(shared));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(registers[0]), "=r"(registers[1]), "=r"(registers[2]), "=r"(registers[3])
               : "r"(address));
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&registers)[2], const void* shared) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(shared));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(registers[0]), "=r"(registers[1])
               : "r"(address));
}

// (a & b) | c in one instruction: turns 2- or 4-bit codes into the mantissas of fp16 1024 + c.
__device__ __forceinline__ uint32_t and_or(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t result;
  asm volatile("lop3.b32 %0, %1, %2, %3, 0xEA;\n" : "=r"(result) : "r"(a), "r"(b), "r"(c));
  return result;
}

// Dense tensor-core product D = A B + D, m16n8k16, fp16 operands, fp32 accumulators.
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Sparse tensor-core product, m16n8k32 with A 2:4-compressed (16x16 stored) and its 2-bit positions in `metadata`
// (lanes t = 0, 1 of each quad supply it: sparsity selector 0).
__device__ __forceinline__ void mma_sp_16832(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                             uint32_t metadata) {
  asm volatile(
      "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(metadata));
}

// A hint that pulls a 128-byte line into the L2 without waiting for it: weights fetched before
// wait_for_prior_grid(), while the kernel before still drains.
__device__ __forceinline__ void prefetch_l2(const void* global) {
  asm volatile("prefetch.global.L2 [%0];\n" ::"l"(global));
}

// Programmatic dependent launch (sm_90): a kernel launched with the programmatic-serialization attribute may start
// while the kernel before it drains; it waits here before touching anything that kernel wrote. A no-op when the
// kernel was launched plainly, so every kernel of the decoder step calls it first.
__device__ __forceinline__ void wait_for_prior_grid() { asm volatile("griddepcontrol.wait;\n" ::: "memory"); }
// Lets the next kernel in the stream be scheduled (it still waits in wait_for_prior_grid for this one to finish):
// its launch overlaps this kernel's tail instead of following it.
__device__ __forceinline__ void allow_next_grid() { asm volatile("griddepcontrol.launch_dependents;\n" :::); }

}  // namespace nmscope::kernels::cuda::ptx
