#pragma once
// Element types that weight files declare. Every reader maps its own type names onto these; conversion to fp32
// for the pipeline lives in one place (io/decode).
#include <cstddef>
#include <string>
#include <string_view>

namespace nmscope {

enum class DType {
  F64,
  F32,
  F16,
  BF16,
  F8_E4M3,
  F8_E5M2,
  I64,
  I32,
  I16,
  I8,
  U64,
  U32,
  U16,
  U8,
  Bool,
  // ggml's block-quantized types (llama.cpp's GGUF files): decoded to fp32 exactly as gguf-py's dequantize does.
  // Layouts: docs/conventions.md, "GGUF block types".
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  Unsupported,  // a type the file may hold (e.g. an IQ GGUF block type) that nmscope does not decode
};

// Elements and bytes of one storage unit: {1, element size} for element types, a ggml block for the block types,
// {0, 0} for Unsupported.
struct DTypeBlock {
  std::size_t elements = 0;
  std::size_t bytes = 0;
};

std::string_view dtype_name(DType type);   // "F16", "BF16", ... (safetensors spelling)
std::size_t dtype_size(DType type);        // bytes per element; 0 for Unsupported and the block types
DTypeBlock dtype_block(DType type);
bool dtype_is_block_quantized(DType type);  // Q4_0 ... Q6_K
bool dtype_is_float(DType type);            // the float types and the block types (they hold real-valued weights)

}  // namespace nmscope
