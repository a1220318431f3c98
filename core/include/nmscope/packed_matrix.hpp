#pragma once
// The packed N:M low-bit weight format every engine consumes. The byte layout is specified once, in
// docs/packed-format.md; this header is its C++ form.
#include <cstdint>
#include <vector>

#include "nmscope/matrix.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

struct PackedMatrix {
  int64_t rows = 0;              // N_out
  int64_t cols = 0;              // K, before padding
  NMPattern pattern;
  QuantConfig quant;
  int64_t groups_per_row = 0;    // G = ceil(K / M)
  int64_t slots_per_row = 0;     // S = G * N
  int64_t value_row_bytes = 0;   // ceil(S * bits / 8)
  int64_t metadata_row_bytes = 0;  // ceil(S * metadata_bits / 8)
  int64_t scale_rows = 0;        // R, or 1 per tensor; 0 for fp16
  int64_t scales_per_row = 0;    // ceil(K / g), 1 per channel / tensor; 0 for fp16

  std::vector<uint8_t> values;       // [rows, value_row_bytes]
  std::vector<uint8_t> metadata;     // [rows, metadata_row_bytes]
  std::vector<uint16_t> scales;      // fp16 bits, [scale_rows, scales_per_row]
  std::vector<uint8_t> zero_points;  // asymmetric only, same layout as scales

  int64_t storage_bytes() const {
    return int64_t(values.size() + metadata.size() + zero_points.size() + scales.size() * sizeof(uint16_t));
  }
  double compression_vs_fp16() const { return 2.0 * double(rows) * double(cols) / double(storage_bytes()); }
  // The zero code z of docs/packed-format.md for a given scale index (2^(b-1) when symmetric).
  int zero_point(int64_t scale_row, int64_t scale_index) const;
  // Which scale of a row covers an original column.
  int64_t scale_column(int64_t original_column) const {
    return quant.granularity == Granularity::Group ? original_column / quant.group : 0;
  }
};

// Quantizes the kept weights of `selection` and packs them (docs/packed-format.md). Throws Error on a bad config.
// `scale_weights` (same shape), when given, are the kept weights the scales are chosen from instead of `weights`:
// GPTQ-style compressors fix each group's scale before their updates move the weights, then pack the final weights
// on that grid.
PackedMatrix compress(const MatrixF& weights, const NMSelection& selection, const QuantConfig& quant,
                      const MatrixF* scale_weights = nullptr);
// The bytes compress() would produce for this shape and configuration, without any weights: the analytic storage
// model that sliders and sweeps use (equal to PackedMatrix::storage_bytes(), which a test pins).
int64_t packed_storage_bytes(int64_t rows, int64_t cols, const NMPattern& pattern, const QuantConfig& quant);
// Decodes back to dense fp32 [rows, cols]: exactly the pruned, quantized matrix every engine multiplies by.
MatrixF dequantize(const PackedMatrix& packed);
// The kept positions stored in the metadata (for dense / N == M, every position).
NMSelection unpack_selection(const PackedMatrix& packed);

}  // namespace nmscope
