#pragma once
// The AMX tile instructions the AMX kernel (nm_gemm_amx.cpp) issues, behind a policy: HardwareTiles runs them,
// EmulatedTiles computes the same products with scalar code from the instructions' definitions, so that the layout,
// the decode into tiles and the scaling are tested on every AVX-512 CPU. Included only by nm_gemm_amx.cpp (compiled
// with the AMX flags).
#include <immintrin.h>

#include <cstdint>

namespace nmscope::kernels::amx {

namespace {

constexpr int kTileRows = 16;     // rows of W (and tokens) per tile
constexpr int kTileBytes = 1024;  // 16 rows x 64 bytes

// Palette 1, six tiles of 16 rows x 64 bytes: tmm0 / tmm5 the result (alternating between chunks, so that a product
// need not wait for the previous one to be stored), tmm1 / tmm2 weights, tmm3 / tmm4 activations.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// (Tile numbers are immediates that the intrinsics spell into the instruction: each result tile gets its own body.)
struct HardwareTiles {
  static void configure() {
    TileConfig config;
    for (int tile = 0; tile < 6; ++tile) {
      config.bytes_per_row[tile] = 64;
      config.rows[tile] = kTileRows;
    }
    _tile_loadconfig(&config);
  }
  static void release() { _tile_release(); }

  // int8: c [16 rows][16 tokens] int32 = weights [2][16][64] x activations [2][16][64] (TDPBSSD, two halves of 64
  // columns).
  template <bool kOdd>
  static void product(const int8_t* weights, const int8_t* activations, int32_t* c) {
    _tile_loadd(1, weights, 64);
    _tile_loadd(2, weights + kTileBytes, 64);
    _tile_loadd(3, activations, 64);
    _tile_loadd(4, activations + kTileBytes, 64);
    if constexpr (kOdd) {
      _tile_zero(5);
      _tile_dpbssd(5, 1, 3);
      _tile_dpbssd(5, 2, 4);
      _tile_stored(5, c, 64);
    } else {
      _tile_zero(0);
      _tile_dpbssd(0, 1, 3);
      _tile_dpbssd(0, 2, 4);
      _tile_stored(0, c, 64);
    }
  }

  // bf16: c [16 rows][16 tokens] fp32 = weights [4][16][32] x (high + low) [4][16][32] (TDPBF16PS, four quarters of 32
  // columns; low may be null).
  template <bool kOdd>
  static void product(const uint16_t* weights, const uint16_t* high, const uint16_t* low, float* c) {
    if constexpr (kOdd)
      _tile_zero(5);
    else
      _tile_zero(0);
    for (int quarter = 0; quarter < 4; ++quarter) {
      _tile_loadd(1, weights + quarter * kTileBytes / 2, 64);
      _tile_loadd(3, high + quarter * kTileBytes / 2, 64);
      if (low) _tile_loadd(4, low + quarter * kTileBytes / 2, 64);
      if constexpr (kOdd) {
        _tile_dpbf16ps(5, 1, 3);
        if (low) _tile_dpbf16ps(5, 1, 4);
      } else {
        _tile_dpbf16ps(0, 1, 3);
        if (low) _tile_dpbf16ps(0, 1, 4);
      }
    }
    if constexpr (kOdd)
      _tile_stored(5, c, 64);
    else
      _tile_stored(0, c, 64);
  }
};

inline float bf16_value(uint16_t bits) {
  const uint32_t widened = uint32_t(bits) << 16;
  float value;
  __builtin_memcpy(&value, &widened, 4);
  return value;
}

struct EmulatedTiles {
  static void configure() {}
  static void release() {}

  // TDPBSSD: c[m][n] += sum_k4 sum_j a[m][4 k4 + j] * b[k4][4 n + j], over both halves.
  template <bool kOdd>
  static void product(const int8_t* weights, const int8_t* activations, int32_t* c) {
    for (int m = 0; m < kTileRows; ++m)
      for (int n = 0; n < kTileRows; ++n) {
        int32_t sum = 0;
        for (int half = 0; half < 2; ++half)
          for (int k4 = 0; k4 < 16; ++k4)
            for (int j = 0; j < 4; ++j)
              sum += int32_t(weights[half * kTileBytes + m * 64 + 4 * k4 + j]) *
                     int32_t(activations[half * kTileBytes + k4 * 64 + 4 * n + j]);
        c[m * kTileRows + n] = sum;
      }
  }

  // TDPBF16PS: c[m][n] += sum_k2 a[m][2 k2] b[k2][2 n] + a[m][2 k2 + 1] b[k2][2 n + 1], fp32, over the quarters.
  template <bool kOdd>
  static void product(const uint16_t* weights, const uint16_t* high, const uint16_t* low, float* c) {
    for (int m = 0; m < kTileRows; ++m)
      for (int n = 0; n < kTileRows; ++n) {
        float sum = 0;
        for (const uint16_t* activations : {high, low}) {
          if (!activations) continue;
          for (int quarter = 0; quarter < 4; ++quarter)
            for (int k2 = 0; k2 < 16; ++k2)
              for (int j = 0; j < 2; ++j)
                sum += bf16_value(weights[quarter * 512 + m * 32 + 2 * k2 + j]) *
                       bf16_value(activations[quarter * 512 + k2 * 32 + 2 * n + j]);
        }
        c[m * kTileRows + n] = sum;
      }
  }
};

}  // namespace

}  // namespace nmscope::kernels::amx
