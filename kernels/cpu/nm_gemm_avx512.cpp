// AVX-512 (VNNI + VBMI) kernel for y = x W^T on the packed format (docs/packed-format.md), int8 activations.
//
// The unit of work is a chunk of 128 columns of K, the span one byte permutation (vpermt2b) covers:
//   - its slots: spc = 128 * N / M (64 for 2:4 and 4:8, 32 for 1:4 and 2:8, 16 for 1:8; 128 for dense),
//   - their b-bit codes and mb-bit positions, each a byte-aligned run of the row's bit strings (spc % 8 == 0),
//   - one weight scale (quantization groups are multiples of 128 columns) and one activation scale per token.
// Decoding a chunk: two instructions pull any b-bit fields (b <= 8) out of a byte run into bytes: vpermb copies the
// bytes of each field's qword into place, vpmultishiftqb shifts each field to bit 0. Codes minus the zero point are
// the signed weights; positions plus the group base ((slot / N) * M) index the chunk's 128 activation bytes.
// Multiplying: vpermt2b selects each slot's activation, vpdpbusd sums u8 activation (q + 128) x s8 weight in 4-byte
// lanes, and subtracting 128 * sum(w) (also one vpdpbusd, once per row) leaves sum(w * q); the lane sums are
// scaled by s_w * s_x in fp32 and reduced once per row.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "nm_gemm_isa.hpp"

namespace nmscope::kernels::avx512 {

namespace {

constexpr int kChunk = QuantizedActivations::kBlock;  // 128 columns
constexpr int kTokenTile = 4;

// One decoded chunk of a row: 64 signed weights, 64 activation indices, 128 * sum(w) per lane, and the scale.
struct alignas(64) DecodedChunk {
  __m512i weights;
  __m512i indices;
  __m512i offset;       // 128 * sum of the weights in each 4-byte lane
  __m512i weights_high;  // dense only: weights of columns 64..127 (indices unused)
  __m512i offset_high;
  float scale;
};

__mmask64 first_bytes(int count) { return count >= 64 ? ~__mmask64(0) : (__mmask64(1) << count) - 1; }

// Pulls b-bit fields out of an LSB-first byte run, one per byte (count <= 64, b <= 8). The two control vectors
// depend only on b, so they are built once per kernel call.
class FieldExtractor {
 public:
  explicit FieldExtractor(int bits) : bits_(bits) {
    alignas(64) uint8_t gather[64];
    alignas(64) uint8_t shifts[64];
    for (int k = 0; k < 8; ++k)
      for (int t = 0; t < 8; ++t) {
        gather[8 * k + t] = uint8_t(k * bits + t);  // qword k starts at byte k*b: 8 fields of b bits = b bytes
        shifts[8 * k + t] = uint8_t(t * bits);
      }
    gather_index_ = _mm512_load_si512(gather);
    shift_control_ = _mm512_load_si512(shifts);
    field_mask_ = _mm512_set1_epi8(char((1 << bits) - 1));
  }

  __m512i operator()(const uint8_t* run, int count) const {
    const __m512i source = _mm512_maskz_loadu_epi8(first_bytes((count * bits_ + 7) / 8), run);
    const __m512i fields = _mm512_multishift_epi64_epi8(shift_control_, _mm512_permutexvar_epi8(gather_index_, source));
    return _mm512_and_si512(fields, field_mask_);
  }

 private:
  int bits_;
  __m512i gather_index_;
  __m512i shift_control_;
  __m512i field_mask_;
};

struct ChunkGeometry {
  int slots;            // spc
  int value_bytes;      // spc * b / 8
  int metadata_bytes;   // spc * mb / 8
  __m512i group_base;   // (slot / N) * M, the column of each slot's group inside the chunk
};

ChunkGeometry geometry_of(const PackedWeightsView& w) {
  ChunkGeometry geometry{};
  geometry.slots = w.group_size == 1 ? kChunk : kChunk / w.group_size * w.kept_per_group;
  geometry.value_bytes = geometry.slots * w.bits / 8;
  geometry.metadata_bytes = geometry.slots * w.metadata_bits / 8;
  alignas(64) uint8_t base[64];
  for (int slot = 0; slot < 64; ++slot) base[slot] = uint8_t((slot / w.kept_per_group) * w.group_size);
  geometry.group_base = _mm512_load_si512(base);
  return geometry;
}

void decode_row(const PackedWeightsView& w, const ChunkGeometry& geometry, const FieldExtractor& codes,
                const FieldExtractor& positions_of, int64_t row, int64_t chunks, std::vector<DecodedChunk>& out) {
  const uint8_t* values = w.values + row * w.value_row_bytes;
  const uint8_t* metadata = w.metadata ? w.metadata + row * w.metadata_row_bytes : nullptr;
  const __m512i ones = _mm512_set1_epi8(1);
  const bool dense = w.group_size == 1;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    DecodedChunk& decoded = out[size_t(chunk)];
    const int64_t first_slot = chunk * geometry.slots;
    const int slots = int(std::min<int64_t>(geometry.slots, w.slots_per_row - first_slot));
    const int64_t scale_index = w.scale_index(row, chunk * kChunk);
    const __m512i zero_point = _mm512_set1_epi8(char(w.zero_point(scale_index)));
    decoded.scale = _cvtsh_ss(w.scales[scale_index]);
    const uint8_t* chunk_values = values + first_slot * w.bits / 8;
    // Slots past the end of the row get weight 0, so they add nothing whatever they index.
    const int low_slots = std::min(slots, 64);
    decoded.weights = _mm512_maskz_sub_epi8(first_bytes(low_slots), codes(chunk_values, low_slots), zero_point);
    decoded.offset = _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, decoded.weights), 7);
    if (dense) {
      const int high_slots = std::max(0, slots - 64);
      decoded.weights_high = _mm512_maskz_sub_epi8(
          first_bytes(high_slots), codes(chunk_values + 64 * w.bits / 8, high_slots), zero_point);
      decoded.offset_high = _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, decoded.weights_high), 7);
    } else {
      const __m512i positions = positions_of(metadata + first_slot * w.metadata_bits / 8, slots);
      decoded.indices = _mm512_add_epi8(positions, geometry.group_base);
    }
  }
}

}  // namespace

bool supports(const PackedWeightsView& w) {
  if (w.bits < 2 || w.bits > 8) return false;
  if (w.bits == 8 && w.zero_points) return false;  // code - z may leave the int8 range
  if (kChunk % w.group_size != 0) return false;
  if (w.quant_group != 0 && w.quant_group % kChunk != 0) return false;
  if (w.group_size == 1) return true;
  const int slots = kChunk / w.group_size * w.kept_per_group;
  return w.metadata_bits > 0 && slots <= 64 && slots % 8 == 0;
}

void gemm(const PackedWeightsView& w, const QuantizedActivations& x, int64_t row_begin, int64_t row_end, float* y) {
  const ChunkGeometry geometry = geometry_of(w);
  const int64_t chunks = x.padded_cols / kChunk;
  const bool dense = w.group_size == 1;
  std::vector<DecodedChunk> row_chunks(static_cast<size_t>(chunks));
  const FieldExtractor codes(w.bits);
  const FieldExtractor positions(std::max(1, w.metadata_bits));
  for (int64_t row = row_begin; row < row_end; ++row) {
    decode_row(w, geometry, codes, positions, row, chunks, row_chunks);
    for (int64_t first_token = 0; first_token < x.batch; first_token += kTokenTile) {
      const int tokens = int(std::min<int64_t>(kTokenTile, x.batch - first_token));
      __m512 sums[kTokenTile] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        const DecodedChunk& decoded = row_chunks[size_t(chunk)];
        for (int t = 0; t < tokens; ++t) {
          const int64_t token = first_token + t;
          const uint8_t* activations = x.values.data() + token * x.padded_cols + chunk * kChunk;
          const __m512i low = _mm512_loadu_si512(activations);
          const __m512i high = _mm512_loadu_si512(activations + 64);
          __m512i dot;
          if (dense) {
            dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, decoded.weights), decoded.offset);
            dot = _mm512_add_epi32(dot, _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), high, decoded.weights_high),
                                                         decoded.offset_high));
          } else {
            const __m512i selected = _mm512_permutex2var_epi8(low, decoded.indices, high);
            dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), selected, decoded.weights), decoded.offset);
          }
          const float scale = decoded.scale * x.scales[size_t(token * chunks + chunk)];
          sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(scale), sums[t]);
        }
      }
      for (int t = 0; t < tokens; ++t) y[(first_token + t) * w.rows + row] = _mm512_reduce_add_ps(sums[t]);
    }
  }
}

}  // namespace nmscope::kernels::avx512
