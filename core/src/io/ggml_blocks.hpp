#pragma once
// ggml's block-quantized types (Q4_0 ... Q6_K) decoded to fp32 with the arithmetic of gguf-py's dequantize (one
// float32 multiply, then one add or subtract: never fused), so a tensor decodes to the same bits as
// `gguf.quants.dequantize` gives. Layouts: docs/conventions.md, "GGUF block types".
#include <cstddef>
#include <cstdint>

#include "nmscope/dtype.hpp"

namespace nmscope::io {

// Decodes `block_count` consecutive blocks of `type` (a block type: dtype_is_block_quantized) from `blocks` into
// `out`, which holds block_count * dtype_block(type).elements floats. The caller has checked the byte count.
void decode_ggml_blocks(DType type, const std::byte* blocks, int64_t block_count, float* out);

}  // namespace nmscope::io
