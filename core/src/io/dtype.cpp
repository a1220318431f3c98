#include "nmscope/dtype.hpp"

namespace nmscope {

std::string_view dtype_name(DType type) {
  switch (type) {
    case DType::F64: return "F64";
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::F8_E5M2: return "F8_E5M2";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U64: return "U64";
    case DType::U32: return "U32";
    case DType::U16: return "U16";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
    case DType::Q4_0:
      return "Q4_0";
    case DType::Q4_1:
      return "Q4_1";
    case DType::Q5_0:
      return "Q5_0";
    case DType::Q5_1:
      return "Q5_1";
    case DType::Q8_0:
      return "Q8_0";
    case DType::Q2_K:
      return "Q2_K";
    case DType::Q3_K:
      return "Q3_K";
    case DType::Q4_K:
      return "Q4_K";
    case DType::Q5_K:
      return "Q5_K";
    case DType::Q6_K:
      return "Q6_K";
    case DType::Unsupported: return "unsupported";
  }
  return "unsupported";
}

std::size_t dtype_size(DType type) {
  switch (type) {
    case DType::F64:
    case DType::I64:
    case DType::U64: return 8;
    case DType::F32:
    case DType::I32:
    case DType::U32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
    case DType::U16: return 2;
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
    default:
      return 0;  // Unsupported, and the block types, which have no per-element size
  }
}

// ggml's type_traits (ggml.c): 32-element blocks for the legacy types, 256-element super-blocks for the K-quants.
DTypeBlock dtype_block(DType type) {
  switch (type) {
    case DType::Q4_0:
      return {32, 18};
    case DType::Q4_1:
      return {32, 20};
    case DType::Q5_0:
      return {32, 22};
    case DType::Q5_1:
      return {32, 24};
    case DType::Q8_0:
      return {32, 34};
    case DType::Q2_K:
      return {256, 84};
    case DType::Q3_K:
      return {256, 110};
    case DType::Q4_K:
      return {256, 144};
    case DType::Q5_K:
      return {256, 176};
    case DType::Q6_K:
      return {256, 210};
    default: {
      const std::size_t size = dtype_size(type);
      return size == 0 ? DTypeBlock{} : DTypeBlock{1, size};
    }
  }
}

bool dtype_is_block_quantized(DType type) { return dtype_block(type).elements > 1; }

bool dtype_is_float(DType type) {
  switch (type) {
    case DType::F64:
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::F8_E4M3:
    case DType::F8_E5M2: return true;
    default:
      return dtype_is_block_quantized(type);
  }
}

}  // namespace nmscope
