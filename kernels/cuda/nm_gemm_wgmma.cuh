#pragma once
// The warpgroup kernel (large batches): y = x W^T with Hopper's wgmma, W in the GPU layout of docs/gpu-kernels.md.
//
// Why a third kernel: mma.sync issues 16x8 products one warp at a time and reads operand B through registers, so the
// tiled kernel reached a fifth of the tensor-core peak. wgmma multiplies a 64-row slice by up to 256 batch columns in
// one instruction, reading B straight from shared memory. The weights stay in our packed layout: each warp
// dequantizes its own m16 tiles into registers exactly as the other kernels do (dequantize_unit: the A fragment of a
// warp's 16 rows is the mma.sync / mma.sp fragment), and the warpgroup's four warps together form the 64-row A
// operand held in registers (the RS form); the sparse form takes our 2:4 metadata words unchanged.
//
// One CTA: kWarpgroups x kBlocks slices of 64 rows by kN batch columns. Per chunk of K: x columns land in shared
// memory by cp.async, kStages deep, as K-major core matrices (below); every warp loads its next chunk's codes,
// metadata and scales straight from global memory into registers while the current chunk's wgmma run.
//
// x in shared memory, one stage: kN rows (batch columns of y) x kChunkK halves, cut into 8x8 core matrices of 128
// contiguous bytes; core matrix (n / 8, k / 8) sits at ((n / 8) * kChunkK / 8 + k / 8) * 128 bytes, row n % 8 at
// 16 (n % 8) inside it. So consecutive 16-byte pieces are written by consecutive threads, and a wgmma's B operand for
// the k-th unit starts at k * kUnitK / 8 core matrices with strides 128 bytes (along K) and kChunkK * 16 bytes
// (along N).
#include <cuda_fp16.h>

#include <cstdint>

#include "common/ptx.cuh"
#include "common/wgmma.cuh"
#include "nm_gemm_tc.cuh"

namespace nmscope::kernels::cuda {

template <int kCodeBits, bool kSparse, int kWarpgroups, int kBlocks, int kN, int kStages>
struct WgmmaConfig {
  static_assert(kN == 64 || kN == 128 || kN == 256, "wgmma shapes generated: N = 64, 128, 256");
  static_assert(kStages >= 2, "the pipeline needs a stage to compute and one to fill");
  static constexpr int kThreads = 128 * kWarpgroups;
  static constexpr int kUnits = 16 / kCodeBits;
  static constexpr int kUnitK = kSparse ? 32 : 16;
  static constexpr int kChunkK = kUnits * kUnitK;
  static constexpr int kCtaRows = 64 * kBlocks * kWarpgroups;
  static constexpr int kAccumulators = kN / 2;  // per thread and 64-row slice
  static constexpr int kStageBytes = kN * kChunkK * 2;
  static constexpr int kSharedBytes = kStages * kStageBytes;
  static constexpr uint32_t kKStride = 128;          // bytes between core matrices along K
  static constexpr uint32_t kNStride = kChunkK * 16;  // bytes between core matrices along N
};

template <bool kSparse, int kN>
__device__ __forceinline__ void wgmma_unit(float (&d)[kN / 2], const uint32_t (&a)[4], uint64_t b, uint32_t metadata) {
  if constexpr (kSparse) {
    if constexpr (kN == 64) ptx::wgmma_sp_m64n64k32(d, a, b, metadata);
    if constexpr (kN == 128) ptx::wgmma_sp_m64n128k32(d, a, b, metadata);
    if constexpr (kN == 256) ptx::wgmma_sp_m64n256k32(d, a, b, metadata);
  } else {
    if constexpr (kN == 64) ptx::wgmma_m64n64k16(d, a, b);
    if constexpr (kN == 128) ptx::wgmma_m64n128k16(d, a, b);
    if constexpr (kN == 256) ptx::wgmma_m64n256k16(d, a, b);
  }
}

template <int kCodeBits, bool kSparse, int kWarpgroups, int kBlocks, int kN, int kStages>
__global__ void __launch_bounds__(WgmmaConfig<kCodeBits, kSparse, kWarpgroups, kBlocks, kN, kStages>::kThreads, 1)
    nm_gemm_wgmma(const TcParams p) {
  using C = WgmmaConfig<kCodeBits, kSparse, kWarpgroups, kBlocks, kN, kStages>;
  constexpr int kUnits = C::kUnits;
  extern __shared__ __align__(128) uint8_t shared[];
  ptx::wait_for_prior_grid();
  ptx::allow_next_grid();
  const int thread = threadIdx.x, lane = thread & 31;
  const int warpgroup = thread >> 7, warp_in_group = (thread >> 5) & 3;
  const int64_t m_tiles = int64_t((p.rows + 127) / 128) * 8;  // rows padded to 128 (docs/gpu-kernels.md)
  const int first_batch = blockIdx.y * kN;
  const int64_t chunk_begin = int64_t(blockIdx.z) * p.chunks_per_split;
  const int64_t chunk_end = min(p.chunks, chunk_begin + p.chunks_per_split);
  // This warp's m16 tile in each of its warpgroup's 64-row slices.
  int64_t tiles[kBlocks];
#pragma unroll
  for (int block = 0; block < kBlocks; ++block)
    tiles[block] = int64_t(blockIdx.x) * (C::kCtaRows / 16) + (warpgroup * kBlocks + block) * 4 + warp_in_group;

  // fetch_x: chunk `chunk`'s x columns into stage `stage`, in the core-matrix order above; columns past the batch
  // are zero-filled without a read.
  auto fetch_x = [&](int stage, int64_t chunk) {
    uint8_t* stage_x = shared + stage * C::kStageBytes;
    constexpr int kPiecesPerCore = 8, kCoresAlongK = C::kChunkK / 8;
#pragma unroll 4
    for (int piece = thread; piece < kN * kCoresAlongK; piece += C::kThreads) {
      const int core = piece / kPiecesPerCore, row = piece % kPiecesPerCore;
      const int n = (core / kCoresAlongK) * 8 + row, k = (core % kCoresAlongK) * 8;
      const int column = first_batch + n;
      const __half* source = p.x + int64_t(column < p.batch ? column : 0) * p.x_ld + chunk * C::kChunkK + k;
      const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(stage_x + 16 * piece));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(source),
                   "r"(column < p.batch ? 16 : 0));
    }
  };

  struct Weights {
    uint4 words[kBlocks];
    uint32_t metadata[kBlocks][kUnits];
    uint32_t scales[kBlocks][kUnits];
  };
  // fetch_weights: this lane's codes, metadata and scales of chunk `chunk` in each of its tiles (zero past the rows).
  auto fetch_weights = [&](int64_t chunk, Weights& w) {
#pragma unroll
    for (int block = 0; block < kBlocks; ++block) {
      const bool inside = tiles[block] < m_tiles;
      const uint8_t* tile = p.tiles + (tiles[block] * p.chunks + chunk) * p.tile_bytes;
      w.words[block] = inside ? __ldg(reinterpret_cast<const uint4*>(tile + 16 * lane)) : make_uint4(0, 0, 0, 0);
#pragma unroll
      for (int unit = 0; unit < kUnits; ++unit) {
        w.scales[block][unit] =
            inside ? __ldg(reinterpret_cast<const uint32_t*>(tile + scale_offset<kUnits>(p, lane, unit))) : 0u;
        if constexpr (kSparse)
          // Rows past the matrix get positions (0, 1): zero metadata nibbles would be invalid for the hardware.
          w.metadata[block][unit] =
              inside ? __ldg(reinterpret_cast<const uint32_t*>(tile + metadata_offset<kUnits>(lane, unit)))
                     : 0x44444444u;
      }
    }
  };

  float accumulators[kBlocks][C::kAccumulators];
#pragma unroll
  for (int block = 0; block < kBlocks; ++block)
#pragma unroll
    for (int i = 0; i < C::kAccumulators; ++i) accumulators[block][i] = 0.0f;

#pragma unroll
  for (int stage = 0; stage < kStages - 1; ++stage) {
    if (chunk_begin + stage < chunk_end) fetch_x(stage, chunk_begin + stage);
    ptx::cp_async_commit();
  }
  Weights weights;
  if (chunk_begin < chunk_end) fetch_weights(chunk_begin, weights);

  // One chunk per iteration, waiting for its wgmma at the end: the two warpgroups of a CTA interleave, so one
  // dequantizes while the other's products run. (Keeping one group in flight across the barrier, with the fragments
  // double-buffered, measured 5 % faster but failed the plan test intermittently: docs/gpu-kernels.md.)
  const __half2 zero = bits_half2(p.zero_half2);
  for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
    const int64_t step = chunk - chunk_begin;
    // wait: this chunk's x has landed for every thread, and every warpgroup is done with chunk - 1, whose stage is
    // refilled next (each waited for its wgmma at the end of chunk - 1).
    ptx::cp_async_wait<kStages - 2>();
    ptx::fence_proxy_async_shared();
    __syncthreads();
    if (chunk + kStages - 1 < chunk_end) fetch_x(int((step + kStages - 1) % kStages), chunk + kStages - 1);
    ptx::cp_async_commit();
    uint32_t a[kBlocks][kUnits][4], metadata[kBlocks][kUnits];
#pragma unroll
    for (int block = 0; block < kBlocks; ++block)
#pragma unroll
      for (int unit = 0; unit < kUnits; ++unit) {
        dequantize_unit<kCodeBits>(a[block][unit], weights.words[block], unit, weights.scales[block][unit], zero);
        metadata[block][unit] = kSparse ? weights.metadata[block][unit] : 0u;
      }
    if (chunk + 1 < chunk_end) fetch_weights(chunk + 1, weights);  // in flight while the tensor cores run

    const uint8_t* stage_x = shared + int(step % kStages) * C::kStageBytes;
    uint64_t b[kUnits];
#pragma unroll
    for (int unit = 0; unit < kUnits; ++unit)
      b[unit] = ptx::matrix_descriptor(stage_x + unit * (C::kUnitK / 8) * 128, C::kKStride, C::kNStride);
    ptx::pin_registers(b);
#pragma unroll
    for (int block = 0; block < kBlocks; ++block) {
#pragma unroll
      for (int unit = 0; unit < kUnits; ++unit) ptx::pin_registers(a[block][unit]);
      ptx::pin_registers(metadata[block]);
    }
    ptx::wgmma_fence();
#pragma unroll
    for (int unit = 0; unit < kUnits; ++unit)
#pragma unroll
      for (int block = 0; block < kBlocks; ++block)
        wgmma_unit<kSparse, kN>(accumulators[block], a[block][unit], b[unit], metadata[block][unit]);
    ptx::wgmma_commit();
    ptx::wgmma_wait<0>();
#pragma unroll
    for (int block = 0; block < kBlocks; ++block) ptx::pin_registers(accumulators[block]);
  }
  ptx::cp_async_wait<0>();

  // write: accumulator 4 j + i of a slice holds row g + 8 (i / 2) of the warp's 16 and column 8 j + 2 t + i % 2.
#pragma unroll
  for (int block = 0; block < kBlocks; ++block) {
    if (tiles[block] >= m_tiles) continue;
#pragma unroll
    for (int j = 0; j < kN / 8; ++j) {
      const float c[4] = {accumulators[block][4 * j], accumulators[block][4 * j + 1], accumulators[block][4 * j + 2],
                          accumulators[block][4 * j + 3]};
      write_accumulators(p, tiles[block] * 16, first_batch + 8 * j, lane, c);
    }
  }
}

}  // namespace nmscope::kernels::cuda
