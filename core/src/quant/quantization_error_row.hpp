#pragma once
// W_hat - W of one row, straight from each kept weight's code: what dequantize(compress(W)) - W gives, to the bit,
// without packing the codes into bytes and unpacking them again. A model study's streamed path (study/
// slice_accuracy.cpp) needs only the error of a layer, and packing + unpacking was half of its time.
#include <cstdint>

#include "nmscope/quant_config.hpp"

namespace nmscope {

// Bit (col % 8) of `kept_bits[col / 8]` is 1 for a weight the N:M selection keeps, 0 for a pruned one (select_nm_bits,
// pruning.hpp); the row of bits has at least one byte after its last column's byte, which may be read. Each scale (per channel: the row; per
// group: g columns of the original K) is chosen from the kept weights under it, each kept weight is coded and decoded
// exactly as compress() and dequantize() do (quant_grid.hpp), and `difference[col]` = double(decoded) - double(w);
// a pruned weight gives 0 - w. fp16 (bits 16) decodes the weight's fp16 rounding. Per-tensor scales span rows and
// are not handled here (the caller measures those layers whole).
void quantization_error_row(const float* weights, const uint8_t* kept_bits, int64_t cols, const QuantConfig& quant,
                            double* difference);

}  // namespace nmscope
