#pragma once
// Element types that weight files declare. Every reader maps its own type names onto these; conversion to fp32
// for the pipeline lives in one place (io/decode).
#include <cstddef>
#include <string>
#include <string_view>

namespace nmscope {

enum class DType {
  F64, F32, F16, BF16, F8_E4M3, F8_E5M2,
  I64, I32, I16, I8, U64, U32, U16, U8, Bool,
  Unsupported,  // a type the file may hold (e.g. a quantized GGUF block type) that nmscope does not decode
};

std::string_view dtype_name(DType type);   // "F16", "BF16", ... (safetensors spelling)
std::size_t dtype_size(DType type);        // bytes per element; 0 for Unsupported
bool dtype_is_float(DType type);

}  // namespace nmscope
