// AMX int8 kernel (Sapphire Rapids and later) for y = x W^T on the packed format, int8 activations, from
// kAmxBatch tokens on (docs/packed-format.md, "AMX tiles").
//
// The VNNI kernel pays, per row, chunk and token, a byte permutation and a dot product; at batch 16 that work, not the
// decode, is most of its time. Here the decode is shared by 16 tokens of a tile product instead: a block of 16 rows
// is decoded chunk by chunk (with the VNNI kernel's decoder) into dense signed int8 rows, zeros where N:M pruned,
// and each chunk is one 16 x 16 x 128 product, two TDPBSSD of the weight tiles (A: 16 rows x 64 columns) with the
// activation tiles (B: the same 64 columns of 16 tokens, four columns per token in each 4-byte lane, laid out once per
// call). The int32 result of a chunk is scaled by s_w (per row) times s_x (per token) into fp32 sums, 16 rows x 16
// tokens in 16 registers. Rows of a range past its last whole block of 16 go to the VNNI kernel.
//
// The tile instructions sit behind a policy (HardwareTiles, EmulatedTiles): the emulated one computes the same
// products with scalar code, so the layout, the decode into tiles and the scaling are tested on every AVX-512 CPU.
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "nm_gemm_avx512_decode.hpp"

namespace nmscope::kernels::amx {

namespace {

using avx512::CallConstants;
using avx512::DecodedChunk;
using avx512::kChunk;
using avx512::RowDecoder;

constexpr int kTileRows = 16;         // rows of W (and tokens) per tile
constexpr int kTileBytes = 1024;      // 16 x 64 bytes
constexpr int64_t kWindowChunks = 8;  // chunks decoded ahead per block: 16 KiB of tiles, inside L1

// The tiles a chunk product uses: tmm0 or tmm5 the int32 result (alternating between chunks, so that a product need
// not wait for the previous one to be stored), tmm1/tmm2 the weights' two halves, tmm3/tmm4 the activations' two
// halves, all 16 rows of 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

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
  // c [16 rows][16 tokens] = sum over the chunk's 128 columns of weights [2][16][64] x activations [2][16][64], in
  // result tile 0 (kOdd false) or 5. (Tile numbers are immediates: two spelled-out bodies.)
  template <bool kOdd>
  static void chunk_product(const int8_t* weights, const int8_t* activations, int32_t* c) {
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
};

// TDPBSSD's definition in scalar code: c[m][n] += sum_k4 sum_j a[m][4 k4 + j] * b[k4][4 n + j].
struct EmulatedTiles {
  static void configure() {}
  static void release() {}
  template <bool kOdd>
  static void chunk_product(const int8_t* weights, const int8_t* activations, int32_t* c) {
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
};

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

  void store(const DecodedChunk& decoded, int8_t* low, int8_t* high) const {
    int8_t* out[2] = {low, high};
    for (int half = 0; half < 2; ++half) {
      __m512i dense = _mm512_setzero_si512();
      for (int k = 0; k < kept_; ++k) {
        const __m512i slot = _mm512_loadu_si512(slot_[half].data() + 64 * k);
        const __m512i column = _mm512_permutexvar_epi8(slot, decoded.indices_or_high);
        const __mmask64 here = _mm512_cmpeq_epi8_mask(column, column_[half]);
        dense = _mm512_mask_permutexvar_epi8(dense, here, slot, decoded.weights);
      }
      _mm512_store_si512(out[half], dense);
    }
  }

 private:
  int kept_;
  __m512i column_[2];
  std::vector<uint8_t> slot_[2];  // per half and k, the slot each of the 64 columns takes its weight from
};

// What one thread keeps for a range of rows: the decoded window, the block's weight scales, its fp32 sums.
struct BlockScratch {
  BlockScratch(int64_t chunks, int64_t token_tiles)
      : scale_stride((chunks + 15) / 16 * 16 + 16),
        decoded(size_t(kWindowChunks) * 2 * kTileBytes + 64),
        weight_scales(size_t(kTileRows * scale_stride)),
        sums(size_t(token_tiles * kTileRows * kTileRows)) {}
  int8_t* tiles() {
    return reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(decoded.data()) + 63) & ~uintptr_t(63));
  }
  int64_t scale_stride;
  std::vector<int8_t> decoded;       // [chunk of the window][half][16 rows][64 bytes], 64-byte aligned
  std::vector<float> weight_scales;  // [16 rows][scale_stride]
  std::vector<float> sums;           // [token tile][16 rows][16 tokens]
  alignas(64) int32_t product[2][kTileRows * kTileRows];  // the last two chunks' results
};

// The chunk's int32 result scaled by s_w (row) x s_x (token) into the fp32 sums.
inline void accumulate(const int32_t* product, const float* weight_scales, int64_t scale_stride, int64_t chunk,
                       __m512 token_scales, __m512* sums) {
  for (int r = 0; r < kTileRows; ++r) {
    const __m512 factor = _mm512_mul_ps(_mm512_set1_ps(weight_scales[r * scale_stride + chunk]), token_scales);
    sums[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(product + r * kTileRows)), factor, sums[r]);
  }
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

template <class Tiles, bool Dense>
void multiply_block(const PackedWeightsView& w, const CallConstants& constants, const ChunkScatter& scatter,
                    const TokenTiles& x, int64_t first_row, BlockScratch& scratch, float* y) {
  const int64_t chunks = constants.chunks;
  for (int r = 0; r < kTileRows; ++r)
    avx512::weight_scales_of_row(w, constants, first_row + r, &scratch.weight_scales[size_t(r * scratch.scale_stride)]);
  std::fill(scratch.sums.begin(), scratch.sums.end(), 0.0f);
  int8_t* tiles = scratch.tiles();
  for (int64_t window = 0; window < chunks; window += kWindowChunks) {
    const int64_t window_end = std::min(chunks, window + kWindowChunks);
    for (int r = 0; r < kTileRows; ++r) {
      // The next window of this row, or after the last the first window of the next block's row.
      if (window_end < chunks)
        prefetch_window(w, constants, first_row + r, window_end, std::min(kWindowChunks, chunks - window_end));
      else
        prefetch_window(w, constants, first_row + kTileRows + r, 0, std::min(kWindowChunks, chunks));
      const RowDecoder<Dense> decoder(w, constants, first_row + r);
      for (int64_t chunk = window; chunk < window_end; ++chunk) {
        const DecodedChunk decoded = decoder.decode(chunk);
        int8_t* low = tiles + (chunk - window) * 2 * kTileBytes + r * 64;
        if constexpr (Dense) {
          _mm512_store_si512(low, decoded.weights);
          _mm512_store_si512(low + kTileBytes, decoded.indices_or_high);
        } else {
          scatter.store(decoded, low, low + kTileBytes);
        }
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
        const int8_t* weights = tiles + (chunk - window) * 2 * kTileBytes;
        if (odd)
          Tiles::template chunk_product<true>(weights, x.tile(tile, chunk), scratch.product[1]);
        else
          Tiles::template chunk_product<false>(weights, x.tile(tile, chunk), scratch.product[0]);
        if (chunk > window)
          accumulate(scratch.product[!odd], scratch.weight_scales.data(), scratch.scale_stride, chunk - 1,
                     _mm512_loadu_ps(x.tile_scales(tile, chunk - 1)), sums);
      }
      accumulate(scratch.product[(window_end - 1 - window) % 2], scratch.weight_scales.data(), scratch.scale_stride,
                 window_end - 1, _mm512_loadu_ps(x.tile_scales(tile, window_end - 1)), sums);
      for (int r = 0; r < kTileRows; ++r) _mm512_storeu_ps(tile_sums + r * kTileRows, sums[r]);
    }
  }
  // The sums are [row][token]; y wants each token's 16 rows side by side: one gather down a column per token.
  const __m512i down_a_column = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(kTileRows));
  for (int64_t tile = 0; tile < x.token_tiles; ++tile) {
    const float* tile_sums = scratch.sums.data() + tile * kTileRows * kTileRows;
    const int64_t tokens = std::min<int64_t>(kTileRows, x.batch - tile * kTileRows);
    for (int64_t t = 0; t < tokens; ++t)
      _mm512_storeu_ps(y + (tile * kTileRows + t) * w.rows + first_row,
                       _mm512_i32gather_ps(down_a_column, tile_sums + t, 4));
  }
}

template <class Tiles>
void multiply_rows(const PackedWeightsView& w, const QuantizedActivations& quantized, const TokenTiles& x,
                   int64_t row_begin, int64_t row_end, float* y) {
  const CallConstants constants(w, x.chunks);
  const ChunkScatter scatter(w);
  BlockScratch scratch(x.chunks, x.token_tiles);
  int64_t row = row_begin;
  Tiles::configure();
  for (; row + kTileRows <= row_end; row += kTileRows) {
    if (w.group_size == 1)
      multiply_block<Tiles, true>(w, constants, scatter, x, row, scratch, y);
    else
      multiply_block<Tiles, false>(w, constants, scatter, x, row, scratch, y);
  }
  Tiles::release();
  if (row < row_end) avx512::gemm(w, quantized, row, row_end, y);
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

}  // namespace

bool available() {
  static const bool granted = [] {
    const char* off = std::getenv("NMSCOPE_CPU_NO_AMX");
    if (off && *off && std::string(off) != "0") return false;
    return cpu_has_amx_int8() && tile_state_granted();
  }();
  return granted;
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
  const __m512i token_rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                _mm512_set1_epi32(int32_t(x.row_stride)));
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

void gemm(const PackedWeightsView& w, const QuantizedActivations& quantized, const TokenTiles& x, int64_t row_begin,
          int64_t row_end, float* y, bool emulated) {
  if (emulated)
    multiply_rows<EmulatedTiles>(w, quantized, x, row_begin, row_end, y);
  else
    multiply_rows<HardwareTiles>(w, quantized, x, row_begin, row_end, y);
}

}  // namespace nmscope::kernels::amx
