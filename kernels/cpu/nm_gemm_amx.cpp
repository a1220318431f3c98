// AMX kernels (Sapphire Rapids and later) for y = x W^T on the packed format, from amx_int8_batch / kAmxBatch tokens
// (docs/packed-format.md, "AMX tiles"): int8 activations on TDPBSSD, bf16 (or a bf16 pair) on TDPBF16PS.
//
// The VNNI and AVX-512 kernels pay, per row, chunk and token, the products and for N:M a permutation; at batch 16
// that work, not the decode, is most of their time. Here the decode is shared by 16 tokens of a tile product: a
// block of 16 rows is decoded chunk by chunk (with the VNNI kernel's decoder) into dense signed rows, zeros where
// N:M pruned, as int8 or as bf16 (exact: |w| <= 255), and each chunk of 128 columns is one 16 x 16 x 128 product
// against 16 tokens' activations, laid out once per call. A chunk's result is scaled by s_w (per row; int8: times
// s_x per token) into fp32 sums, 16 rows x 16 tokens in 16 registers, while the next chunk's product runs. Rows of a
// range past its last whole block of 16 go to the VNNI (int8) or AVX-512 BF16 kernel.
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nm_gemm_amx_tiles.hpp"
#include "nm_gemm_avx512_decode.hpp"

namespace nmscope::kernels::amx {

namespace {

using avx512::CallConstants;
using avx512::DecodedChunk;
using avx512::kChunk;
using avx512::RowDecoder;

// Turns a decoded sparse chunk (N:M slots with their columns) into its 128 dense columns: column c of group c / M
// holds the weight of whichever of the group's N slots sits at c, else 0. Per half of 64 columns and per k < N, one
// permutation fetches slot (c / M) * N + k's weight and column, and a compare keeps it where the column is c.
class ChunkScatter {
 public:
  explicit ChunkScatter(const PackedWeightsView& w) : kept_(w.kept_per_group) {
    for (int half = 0; half < 2; ++half) {
      alignas(64) uint8_t columns[64];
      for (int c = 0; c < 64; ++c) columns[c] = uint8_t(64 * half + c);
      column_[half] = _mm512_load_si512(columns);
      slot_[half].resize(size_t(64 * kept_));
      for (int k = 0; k < kept_; ++k)
        for (int c = 0; c < 64; ++c)
          slot_[half][size_t(64 * k + c)] = uint8_t(((64 * half + c) / w.group_size) * kept_ + k);
    }
  }

  // Columns 64 half .. 64 half + 63 of the chunk, signed int8.
  __m512i dense_half(const DecodedChunk& decoded, int half) const {
    __m512i dense = _mm512_setzero_si512();
    for (int k = 0; k < kept_; ++k) {
      const __m512i slot = _mm512_loadu_si512(slot_[half].data() + 64 * k);
      const __m512i column = _mm512_permutexvar_epi8(slot, decoded.indices_or_high);
      const __mmask64 here = _mm512_cmpeq_epi8_mask(column, column_[half]);
      dense = _mm512_mask_permutexvar_epi8(dense, here, slot, decoded.weights);
    }
    return dense;
  }

 private:
  int kept_;
  __m512i column_[2];
  std::vector<uint8_t> slot_[2];  // per half and k, the slot each of the 64 columns takes its weight from
};

// The chunk's two halves of 64 dense columns, signed int8.
template <bool Dense>
inline void dense_halves(const DecodedChunk& decoded, const ChunkScatter& scatter, __m512i* halves) {
  if constexpr (Dense) {
    halves[0] = decoded.weights;
    halves[1] = decoded.indices_or_high;
  } else {
    halves[0] = scatter.dense_half(decoded, 0);
    halves[1] = scatter.dense_half(decoded, 1);
  }
}

// int8 activations: the weights' tiles are two halves of 16 rows x 64 int8, the activations' TokenTiles, the result
// int32, scaled by s_w x s_x.
struct Int8Format {
  using Activations = TokenTiles;
  using Source = QuantizedActivations;
  using Product = int32_t;
  static constexpr int64_t kChunkBytes = 2 * kTileBytes;
  static constexpr int64_t kWindowChunks = 8;  // 16 KiB of weight tiles, inside L1

  static void store_row(const __m512i* halves, int8_t* chunk_tiles, int row) {
    _mm512_store_si512(chunk_tiles + row * 64, halves[0]);
    _mm512_store_si512(chunk_tiles + kTileBytes + row * 64, halves[1]);
  }
  template <class Tiles, bool kOdd>
  static void product(const int8_t* weights, const Activations& x, int64_t tile, int64_t chunk, Product* c) {
    Tiles::template product<kOdd>(weights, x.tile(tile, chunk), c);
  }
  static void accumulate(const Product* c, const float* weight_scale, int64_t scale_stride, const Activations& x,
                         int64_t tile, int64_t chunk, __m512* sums) {
    const __m512 token_scales = _mm512_loadu_ps(x.tile_scales(tile, chunk));
    for (int r = 0; r < kTileRows; ++r) {
      const __m512 factor = _mm512_mul_ps(_mm512_set1_ps(weight_scale[r * scale_stride]), token_scales);
      sums[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + r * kTileRows)), factor, sums[r]);
    }
  }
  static void rest(const PackedWeightsView& w, const Source& source, int64_t row_begin, int64_t row_end, float* y) {
    avx512::gemm(w, source, row_begin, row_end, y);
  }
};

// bf16 (pair) activations: the weights' tiles are four quarters of 16 rows x 32 bf16 (integers, exact), the
// activations' Bf16TokenTiles (high, and low for a pair), the result fp32, scaled by s_w.
struct Bf16Format {
  using Activations = Bf16TokenTiles;
  using Source = Bf16Activations;
  using Product = float;
  static constexpr int64_t kChunkBytes = 4 * kTileBytes;
  static constexpr int64_t kWindowChunks = 4;  // 16 KiB of weight tiles

  // Quarter q of a row is columns 32 q .. 32 q + 31: its two 16-byte pieces widened to fp32 and rounded to bf16
  // (exact for these integers). (Piece indices are immediates: spelled out per piece.)
  static void store_row(const __m512i* halves, int8_t* chunk_tiles, int row) {
    const auto widen = [](__m128i piece) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(piece)); };
    for (int half = 0; half < 2; ++half) {
      const __m512i v = halves[half];
      const __m512bh first =
          _mm512_cvtne2ps_pbh(widen(_mm512_extracti32x4_epi32(v, 1)), widen(_mm512_extracti32x4_epi32(v, 0)));
      const __m512bh second =
          _mm512_cvtne2ps_pbh(widen(_mm512_extracti32x4_epi32(v, 3)), widen(_mm512_extracti32x4_epi32(v, 2)));
      _mm512_store_si512(chunk_tiles + (2 * half) * kTileBytes + row * 64, reinterpret_cast<const __m512i&>(first));
      _mm512_store_si512(chunk_tiles + (2 * half + 1) * kTileBytes + row * 64,
                         reinterpret_cast<const __m512i&>(second));
    }
  }
  template <class Tiles, bool kOdd>
  static void product(const int8_t* weights, const Activations& x, int64_t tile, int64_t chunk, Product* c) {
    Tiles::template product<kOdd>(reinterpret_cast<const uint16_t*>(weights), x.tile_high(tile, chunk),
                                  x.tile_low(tile, chunk), c);
  }
  static void accumulate(const Product* c, const float* weight_scale, int64_t scale_stride, const Activations&, int64_t,
                         int64_t, __m512* sums) {
    for (int r = 0; r < kTileRows; ++r)
      sums[r] =
          _mm512_fmadd_ps(_mm512_load_ps(c + r * kTileRows), _mm512_set1_ps(weight_scale[r * scale_stride]), sums[r]);
  }
  static void rest(const PackedWeightsView& w, const Source& source, int64_t row_begin, int64_t row_end, float* y) {
    avx512_bf16::gemm(w, source, row_begin, row_end, y);
  }
};

// What one thread keeps for a range of rows: the decoded window, the block's weight scales, its fp32 sums, the last
// two chunks' results.
template <class Format>
struct BlockScratch {
  BlockScratch(int64_t chunks, int64_t token_tiles)
      : scale_stride((chunks + 15) / 16 * 16 + 16),
        decoded(size_t(Format::kWindowChunks * Format::kChunkBytes + 64)),
        weight_scales(size_t(kTileRows * scale_stride)),
        sums(size_t(token_tiles * kTileRows * kTileRows)) {}
  int8_t* tiles() {
    return reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(decoded.data()) + 63) & ~uintptr_t(63));
  }
  int64_t scale_stride;
  std::vector<int8_t> decoded;       // [chunk of the window][Format's tiles], 64-byte aligned
  std::vector<float> weight_scales;  // [16 rows][scale_stride]
  std::vector<float> sums;           // [token tile][16 rows][16 tokens]
  alignas(64) typename Format::Product product[2][kTileRows * kTileRows];
};

// The 16 lanes' offsets i * stride (the rows of 16 tokens, or a column of a 16 x 16 tile), for gathers.
inline __m512i lane_offsets(int64_t stride) {
  return _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                            _mm512_set1_epi32(int32_t(stride)));
}

// Asks for the codes (and positions) of `chunks` chunks of `row` from `first_chunk`: the block decodes a window of 16
// rows 2 KiB (a row at K = 4096) apart, a stride the hardware prefetcher does not follow across pages, so each row's
// next window is asked for while this one's tile products run.
void prefetch_window(const PackedWeightsView& w, const CallConstants& constants, int64_t row, int64_t first_chunk,
                     int64_t chunks) {
  if (row >= w.rows || chunks <= 0) return;
  const auto& geometry = constants.geometry;
  const uint8_t* values = w.values + row * w.value_row_bytes + first_chunk * geometry.value_bytes;
  for (int64_t byte = 0; byte < chunks * geometry.value_bytes; byte += 64)
    _mm_prefetch(reinterpret_cast<const char*>(values + byte), _MM_HINT_T0);
  if (w.metadata_bits == 0) return;
  const uint8_t* metadata = w.metadata + row * w.metadata_row_bytes + first_chunk * geometry.metadata_bytes;
  for (int64_t byte = 0; byte < chunks * geometry.metadata_bytes; byte += 64)
    _mm_prefetch(reinterpret_cast<const char*>(metadata + byte), _MM_HINT_T0);
}

// How far ahead the codes are asked for: one window's tile products at batch 16 take about as long as a miss to
// DRAM, so the next window alone would arrive just in time.
constexpr int64_t kPrefetchWindows = 2;

template <class Format, class Tiles, bool Dense>
void multiply_block(const PackedWeightsView& w, const CallConstants& constants, const ChunkScatter& scatter,
                    const typename Format::Activations& x, int64_t first_row, BlockScratch<Format>& scratch, float* y) {
  constexpr int64_t kWindow = Format::kWindowChunks;
  const int64_t chunks = constants.chunks;
  for (int r = 0; r < kTileRows; ++r)
    avx512::weight_scales_of_row(w, constants, first_row + r, &scratch.weight_scales[size_t(r * scratch.scale_stride)]);
  std::fill(scratch.sums.begin(), scratch.sums.end(), 0.0f);
  int8_t* tiles = scratch.tiles();
  for (int64_t window = 0; window < chunks; window += kWindow) {
    const int64_t window_end = std::min(chunks, window + kWindow);
    // The window kPrefetchWindows ahead in the walk (this block's rows, then the next block's), asked for now.
    const int64_t windows = (chunks + kWindow - 1) / kWindow;
    const int64_t ahead = window / kWindow + kPrefetchWindows;
    const int64_t ahead_row = first_row + (ahead < windows ? 0 : kTileRows);
    const int64_t ahead_chunk = (ahead < windows ? ahead : ahead - windows) * kWindow;
    for (int r = 0; r < kTileRows; ++r) {
      if (ahead_chunk < chunks)
        prefetch_window(w, constants, ahead_row + r, ahead_chunk, std::min(kWindow, chunks - ahead_chunk));
      const RowDecoder<Dense> decoder(w, constants, first_row + r);
      for (int64_t chunk = window; chunk < window_end; ++chunk) {
        __m512i halves[2];
        dense_halves<Dense>(decoder.decode(chunk), scatter, halves);
        Format::store_row(halves, tiles + (chunk - window) * Format::kChunkBytes, r);
      }
    }
    for (int64_t tile = 0; tile < x.token_tiles; ++tile) {
      float* tile_sums = scratch.sums.data() + tile * kTileRows * kTileRows;
      __m512 sums[kTileRows];
      for (int r = 0; r < kTileRows; ++r) sums[r] = _mm512_loadu_ps(tile_sums + r * kTileRows);
      // Software-pipelined: chunk k's tile product is issued before chunk k - 1's result is scaled, so the vector
      // work overlaps the tile unit's.
      for (int64_t chunk = window; chunk < window_end; ++chunk) {
        const bool odd = (chunk - window) % 2;
        const int8_t* weights = tiles + (chunk - window) * Format::kChunkBytes;
        if (odd)
          Format::template product<Tiles, true>(weights, x, tile, chunk, scratch.product[1]);
        else
          Format::template product<Tiles, false>(weights, x, tile, chunk, scratch.product[0]);
        if (chunk > window)
          Format::accumulate(scratch.product[!odd], scratch.weight_scales.data() + chunk - 1, scratch.scale_stride, x,
                             tile, chunk - 1, sums);
      }
      Format::accumulate(scratch.product[(window_end - 1 - window) % 2], scratch.weight_scales.data() + window_end - 1,
                         scratch.scale_stride, x, tile, window_end - 1, sums);
      for (int r = 0; r < kTileRows; ++r) _mm512_storeu_ps(tile_sums + r * kTileRows, sums[r]);
    }
  }
  // The sums are [row][token]; y wants each token's 16 rows side by side: one gather down a column per token.
  const __m512i down_a_column = lane_offsets(kTileRows);
  for (int64_t tile = 0; tile < x.token_tiles; ++tile) {
    const float* tile_sums = scratch.sums.data() + tile * kTileRows * kTileRows;
    const int64_t tokens = std::min<int64_t>(kTileRows, x.batch - tile * kTileRows);
    for (int64_t t = 0; t < tokens; ++t)
      _mm512_storeu_ps(y + (tile * kTileRows + t) * w.rows + first_row,
                       _mm512_i32gather_ps(down_a_column, tile_sums + t, 4));
  }
}

template <class Format, class Tiles>
void multiply_rows(const PackedWeightsView& w, const typename Format::Source& source,
                   const typename Format::Activations& x, int64_t row_begin, int64_t row_end, float* y) {
  const CallConstants constants(w, x.chunks);
  const ChunkScatter scatter(w);
  BlockScratch<Format> scratch(x.chunks, x.token_tiles);
  int64_t row = row_begin;
  Tiles::configure();
  for (; row + kTileRows <= row_end; row += kTileRows) {
    if (w.group_size == 1)
      multiply_block<Format, Tiles, true>(w, constants, scatter, x, row, scratch, y);
    else
      multiply_block<Format, Tiles, false>(w, constants, scatter, x, row, scratch, y);
  }
  Tiles::release();
  if (row < row_end) Format::rest(w, source, row, row_end, y);
}

// The tiles themselves, or their scalar definitions (the tests' emulation).
template <class Format>
void run(const PackedWeightsView& w, const typename Format::Source& source, const typename Format::Activations& x,
         int64_t row_begin, int64_t row_end, float* y, bool emulated) {
  if (emulated)
    multiply_rows<Format, EmulatedTiles>(w, source, x, row_begin, row_end, y);
  else
    multiply_rows<Format, HardwareTiles>(w, source, x, row_begin, row_end, y);
}

// Linux hands out the tile registers' 8 KiB of state only to processes that ask (arch_prctl, once per process).
bool tile_state_granted() {
  constexpr long kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kTileData = 18;               // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
}

bool cpu_has_amx_int8() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (edx >> 24 & 1) && (edx >> 25 & 1);  // AMX-TILE, AMX-INT8
}

bool cpu_has_amx_bf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(edx >> 22 & 1)) return false;  // AMX-BF16
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 5 & 1);                // AVX512-BF16
}

}  // namespace

bool available() {
  static const bool granted = [] {
    const char* off = std::getenv("NMSCOPE_CPU_NO_AMX");
    if (off && *off && std::string(off) != "0") return false;
    return cpu_has_amx_int8() && tile_state_granted();
  }();
  return granted;
}

bool bf16_available() {
  static const bool present = available() && cpu_has_amx_bf16();
  return present;
}

bool supports(const PackedWeightsView& w) { return avx512::supports(w); }

// Row k4 of a token tile's block is column 4 k4 .. 4 k4 + 3 of each of its 16 tokens: one dword gather down the tokens'
// rows, less 128 per byte (the stored q + 128 becomes q); tokens past the batch gather nothing and stay q = 0.
void arrange(const QuantizedActivations& x, TokenTiles& out) {
  out.batch = x.batch;
  out.chunks = x.padded_cols / kChunk;
  out.token_tiles = (x.batch + kTileRows - 1) / kTileRows;
  out.values.resize(size_t(out.token_tiles * out.chunks * 2 * kTileBytes + 64));
  out.values_offset = int64_t((64 - reinterpret_cast<uintptr_t>(out.values.data()) % 64) % 64);
  out.scales.assign(size_t(out.token_tiles * out.chunks * kTileRows), 0.0f);
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const __m512i token_rows = lane_offsets(x.row_stride);
  int8_t* values = out.values.data() + out.values_offset;
  for (int64_t tile = 0; tile < out.token_tiles; ++tile) {
    const int64_t tokens = std::min<int64_t>(kTileRows, x.batch - tile * kTileRows);
    const __mmask16 live = __mmask16(tokens >= 16 ? 0xFFFF : (1u << tokens) - 1);
    const uint8_t* first = x.values.data() + tile * kTileRows * x.row_stride;
    for (int64_t chunk = 0; chunk < out.chunks; ++chunk) {
      int8_t* block = values + (tile * out.chunks + chunk) * 2 * kTileBytes;
      for (int k4 = 0; k4 < 32; ++k4) {  // 32 rows: both halves of the chunk
        const __m512i gathered =
            _mm512_mask_i32gather_epi32(flip, live, token_rows, first + chunk * kChunk + 4 * k4, 1);
        _mm512_store_si512(block + k4 * 64, _mm512_xor_si512(gathered, flip));
      }
      for (int64_t t = 0; t < tokens; ++t)
        out.scales[size_t((tile * out.chunks + chunk) * kTileRows + t)] =
            x.scales[size_t((tile * kTileRows + t) * out.chunks + chunk)];
    }
  }
}

// Row k2 of a quarter tile is columns 2 k2, 2 k2 + 1 of the quarter for each of the 16 tokens: one dword (two bf16)
// gather down the tokens' rows; tokens past the batch stay 0.
void arrange_bf16(const Bf16Activations& x, Bf16TokenTiles& out) {
  out.batch = x.batch;
  out.chunks = x.padded_cols / kChunk;
  out.token_tiles = (x.batch + kTileRows - 1) / kTileRows;
  out.pair = x.pair();
  const size_t elements = size_t(out.token_tiles * out.chunks * 4 * kTileBytes / 2 + 32);
  const auto lay_out = [&](const std::vector<uint16_t>& from, std::vector<uint16_t>& to, int64_t& offset) {
    to.resize(elements);
    offset = int64_t((64 - reinterpret_cast<uintptr_t>(to.data()) % 64) % 64 / 2);
    const __m512i token_rows = lane_offsets(2 * x.row_stride);  // bytes: two per bf16
    uint16_t* values = to.data() + offset;
    for (int64_t tile = 0; tile < out.token_tiles; ++tile) {
      const int64_t tokens = std::min<int64_t>(kTileRows, x.batch - tile * kTileRows);
      const __mmask16 live = __mmask16(tokens >= 16 ? 0xFFFF : (1u << tokens) - 1);
      const uint16_t* first = from.data() + tile * kTileRows * x.row_stride;
      for (int64_t chunk = 0; chunk < out.chunks; ++chunk) {
        uint16_t* block = values + (tile * out.chunks + chunk) * 2 * kTileBytes;
        for (int k2 = 0; k2 < 64; ++k2)  // 4 quarters x 16 rows, 2 columns per row
          _mm512_store_si512(block + k2 * 32, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, token_rows,
                                                                          first + chunk * kChunk + 2 * k2, 1));
      }
    }
  };
  lay_out(x.values, out.high, out.high_offset);
  if (out.pair)
    lay_out(x.low, out.low, out.low_offset);
  else
    out.low.clear();
}

void gemm(const PackedWeightsView& w, const QuantizedActivations& quantized, const TokenTiles& x, int64_t row_begin,
          int64_t row_end, float* y, bool emulated) {
  run<Int8Format>(w, quantized, x, row_begin, row_end, y, emulated);
}

void gemm_bf16(const PackedWeightsView& w, const Bf16Activations& source, const Bf16TokenTiles& x, int64_t row_begin,
               int64_t row_end, float* y, bool emulated) {
  run<Bf16Format>(w, source, x, row_begin, row_end, y, emulated);
}

}  // namespace nmscope::kernels::amx
