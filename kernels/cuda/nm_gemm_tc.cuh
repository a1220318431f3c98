#pragma once
// y = x W^T on the tensor cores, W in the GPU layout of docs/gpu-kernels.md (codes dequantized in registers),
// x fp16 [batch_pad, padded_cols] row-major, y fp32 [batch, rows] row-major.
//
// One CTA computes a [kCtaRows, kCtaBatch] tile of y^T over a slice of K chunks (split-K: several CTAs add into y).
// Main loop, per chunk of K: fetch (cp.async: the weight tiles of the CTA's rows and the x tile, kStages deep) ->
// wait -> dequantize (each warp its own m-tiles, from shared memory to fp16 fragments) -> mma (mma.sync or mma.sp)
// -> next chunk; at the end write (store, or atomic add under split-K).
#include <cuda_fp16.h>

#include <cstdint>

#include "common/ptx.cuh"

namespace nmscope::kernels::cuda {

struct TcParams {
  const uint8_t* tiles;    // [m_tiles][chunks][tile_bytes]
  const uint32_t* scales;  // half2 (row g, row g + 8) per [m_tile][scale_group][g]
  const __half* x;         // [batch_pad][x_ld]
  float* y;                // [batch][rows]
  int64_t chunks;
  int64_t tile_bytes;
  int64_t scale_groups;
  int64_t scale_group_k;
  int64_t x_ld;
  int rows;
  int batch;
  int chunks_per_split;
  uint32_t zero_half2;  // (1024 + z, 1024 + z): subtracting it from 1024 + c leaves c - z exactly
  bool accumulate;      // split-K: atomically add into y (zeroed before)
  bool stream_weights;  // each weight tile read by one CTA only: let it leave the L2 first
};

// kCodeBits: container bits of a code (2, 4, 8); kSparse: mma.sp on 2:4 tiles; a warp owns kMt m16 tiles x kNt n8
// tiles of y^T; the CTA is kWm x kWn warps.
template <int kCodeBits, bool kSparse, int kMt, int kNt, int kWm, int kWn, int kStages>
struct TcConfig {
  static_assert(kCodeBits == 2 || kCodeBits == 4 || kCodeBits == 8, "codes are stored in 2-, 4- or 8-bit containers");
  static_assert(kStages >= 2, "the pipeline needs a stage to compute and one to fill");
  static constexpr int kThreads = 32 * kWm * kWn;
  static constexpr int kUnits = 16 / kCodeBits;  // mma units per 16-byte lane word
  static constexpr int kUnitK = kSparse ? 32 : 16;
  static constexpr int kChunkK = kUnits * kUnitK;
  static constexpr int kTileBytes = 512 + (kSparse ? 64 * kUnits : 0);
  static constexpr int kCtaTiles = kMt * kWm;  // m16 tiles per CTA
  static constexpr int kCtaRows = 16 * kCtaTiles;
  static constexpr int kCtaBatch = 8 * kNt * kWn;
  static constexpr int kXRowHalves = kChunkK + 8;              // +16 B per row: ldmatrix rows hit distinct banks
  static constexpr int kStageA = kCtaTiles * kTileBytes;       // [kCtaTiles][kTileBytes]
  static constexpr int kStageX = kCtaBatch * kXRowHalves * 2;  // [kCtaBatch][kXRowHalves] fp16
  static constexpr int kStageBytes = kStageA + kStageX;
  static constexpr int kSharedBytes = kStages * kStageBytes;
  static_assert(kStageA % 16 == 0 && kStageX % 16 == 0, "stages stay 16-byte aligned");
};

// The half2 pair (a_2p, a_2p+1) of unit u as fp16 1024 + code (docs/gpu-kernels.md, "Codes in a lane word").
// Called from fully unrolled loops only: unit and pair fold to constants, so `w` stays in registers.
template <int kCodeBits>
__device__ __forceinline__ uint32_t code_pair(const uint4& word, int unit, int pair) {
  const uint32_t w[4] = {word.x, word.y, word.z, word.w};
  if constexpr (kCodeBits == 4) {
    return ptx::and_or(w[unit] >> (4 * pair), 0x000f000fu, 0x64006400u);
  } else if constexpr (kCodeBits == 2) {
    return ptx::and_or(w[unit >> 1] >> (2 * (4 * (unit & 1) + pair)), 0x00030003u, 0x64006400u);
  } else {
    return __byte_perm(w[2 * unit + (pair >> 1)], 0x64646464u, (pair & 1) ? 0x4342u : 0x4140u);
  }
}

__device__ __forceinline__ uint32_t half2_bits(__half2 value) { return *reinterpret_cast<uint32_t*>(&value); }
__device__ __forceinline__ __half2 bits_half2(uint32_t value) { return *reinterpret_cast<__half2*>(&value); }

template <int kCodeBits, bool kSparse, int kMt, int kNt, int kWm, int kWn, int kStages>
__global__ void __launch_bounds__(TcConfig<kCodeBits, kSparse, kMt, kNt, kWm, kWn, kStages>::kThreads)
    nm_gemm_tc(const TcParams p) {
  using C = TcConfig<kCodeBits, kSparse, kMt, kNt, kWm, kWn, kStages>;
  extern __shared__ __align__(16) uint8_t shared[];
  const int thread = threadIdx.x, lane = thread & 31, warp = thread >> 5;
  const int warp_m = warp % kWm, warp_n = warp / kWm;
  const int group_id = lane >> 2, thread_in_group = lane & 3;
  const int64_t first_tile = int64_t(blockIdx.x) * C::kCtaTiles;
  const int first_batch = blockIdx.y * C::kCtaBatch;
  const int64_t chunk_begin = int64_t(blockIdx.z) * p.chunks_per_split;
  const int64_t chunk_end = min(p.chunks, chunk_begin + p.chunks_per_split);
  const uint64_t weights_policy = p.stream_weights ? ptx::evict_first_policy() : ptx::evict_normal_policy();

  // fetch: chunk `chunk` of the CTA's weight tiles and x columns into stage `stage`.
  auto fetch = [&](int stage, int64_t chunk) {
    uint8_t* stage_a = shared + stage * C::kStageBytes;
    __half* stage_x = reinterpret_cast<__half*>(stage_a + C::kStageA);
    constexpr int kPiecesPerTile = C::kTileBytes / 16;
    for (int piece = thread; piece < C::kCtaTiles * kPiecesPerTile; piece += C::kThreads) {
      const int tile = piece / kPiecesPerTile, offset = 16 * (piece % kPiecesPerTile);
      ptx::cp_async_16(stage_a + tile * C::kTileBytes + offset,
                       p.tiles + ((first_tile + tile) * p.chunks + chunk) * p.tile_bytes + offset, weights_policy);
    }
    constexpr int kPiecesPerRow = C::kChunkK / 8;
    for (int piece = thread; piece < C::kCtaBatch * kPiecesPerRow; piece += C::kThreads) {
      const int row = piece / kPiecesPerRow, column = 8 * (piece % kPiecesPerRow);
      const __half* source = p.x + int64_t(first_batch + row) * p.x_ld + chunk * C::kChunkK + column;
      const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(stage_x + row * C::kXRowHalves + column));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(address), "l"(source));
    }
  };

  float accumulators[kMt][kNt][4];
#pragma unroll
  for (int mt = 0; mt < kMt; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNt; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) accumulators[mt][nt][i] = 0.0f;

#pragma unroll
  for (int stage = 0; stage < kStages - 1; ++stage) {
    if (chunk_begin + stage < chunk_end) fetch(stage, chunk_begin + stage);
    ptx::cp_async_commit();
  }

  const __half2 zero = bits_half2(p.zero_half2);
  for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
    // wait: this chunk's stage has landed for every thread, and the stage refilled next was computed by all.
    ptx::cp_async_wait<kStages - 2>();
    __syncthreads();
    const int64_t step = chunk - chunk_begin;
    if (chunk + kStages - 1 < chunk_end) fetch(int((step + kStages - 1) % kStages), chunk + kStages - 1);
    ptx::cp_async_commit();

    const uint8_t* stage_a = shared + int(step % kStages) * C::kStageBytes;
    const __half* stage_x = reinterpret_cast<const __half*>(stage_a + C::kStageA);
    uint4 words[kMt];
#pragma unroll
    for (int mt = 0; mt < kMt; ++mt)
      words[mt] = *reinterpret_cast<const uint4*>(stage_a + (warp_m * kMt + mt) * C::kTileBytes + 16 * lane);

#pragma unroll
    for (int unit = 0; unit < C::kUnits; ++unit) {
      // dequantize: (1024 + c) - (1024 + z) is exact in fp16; one rounding when scaled, as W_hat is rounded for
      // cuBLAS.
      const int64_t scale_group = (chunk * C::kChunkK + unit * C::kUnitK) / p.scale_group_k;
      uint32_t a[kMt][4];
      uint32_t metadata[kMt];
#pragma unroll
      for (int mt = 0; mt < kMt; ++mt) {
        const int64_t tile = first_tile + warp_m * kMt + mt;
        const __half2 scale_pair = bits_half2(__ldg(p.scales + (tile * p.scale_groups + scale_group) * 8 + group_id));
        const __half2 scale_low = __low2half2(scale_pair), scale_high = __high2half2(scale_pair);
        auto decode = [&](uint32_t biased, __half2 scale) {
          return half2_bits(__hmul2(__hsub2(bits_half2(biased), zero), scale));
        };
        // Registers 0 and 2 hold row g, 1 and 3 row g + 8.
        a[mt][0] = decode(code_pair<kCodeBits>(words[mt], unit, 0), scale_low);
        a[mt][1] = decode(code_pair<kCodeBits>(words[mt], unit, 1), scale_high);
        a[mt][2] = decode(code_pair<kCodeBits>(words[mt], unit, 2), scale_low);
        a[mt][3] = decode(code_pair<kCodeBits>(words[mt], unit, 3), scale_high);
        if constexpr (kSparse)
          metadata[mt] = *reinterpret_cast<const uint32_t*>(stage_a + (warp_m * kMt + mt) * C::kTileBytes + 512 +
                                                            64 * unit + 4 * (2 * group_id + (thread_in_group & 1)));
      }
      // mma: x rows are y^T's columns; ldmatrix gives lane (g, t) x[g][k = 2t, 2t + 1 (+ 8 j)], operand B's layout.
#pragma unroll
      for (int nt = 0; nt < kNt; ++nt) {
        const __half* x_rows = stage_x + ((warp_n * kNt + nt) * 8 + (lane & 7)) * C::kXRowHalves + unit * C::kUnitK;
        if constexpr (kSparse) {
          uint32_t b[4];
          ptx::ldmatrix_x4(b, x_rows + 8 * (lane >> 3));
#pragma unroll
          for (int mt = 0; mt < kMt; ++mt) ptx::mma_sp_16832(accumulators[mt][nt], a[mt], b, metadata[mt]);
        } else {
          uint32_t b[2];
          ptx::ldmatrix_x2(b, x_rows + 8 * ((lane >> 3) & 1));
#pragma unroll
          for (int mt = 0; mt < kMt; ++mt) ptx::mma_16816(accumulators[mt][nt], a[mt], b[0], b[1]);
        }
      }
    }
  }
  ptx::cp_async_wait<0>();

  // write: accumulator (mt, nt) holds y^T rows g, g + 8 and columns 2t, 2t + 1 of its 16x8 tile.
#pragma unroll
  for (int mt = 0; mt < kMt; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNt; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int64_t row = (first_tile + warp_m * kMt + mt) * 16 + group_id + 8 * (i >> 1);
        const int column = first_batch + (warp_n * kNt + nt) * 8 + 2 * thread_in_group + (i & 1);
        if (row >= p.rows || column >= p.batch) continue;
        float* target = p.y + int64_t(column) * p.rows + row;
        if (p.accumulate)
          atomicAdd(target, accumulators[mt][nt][i]);
        else
          *target = accumulators[mt][nt][i];
      }
}

}  // namespace nmscope::kernels::cuda
