// decode_matrix: stored bytes -> fp32 [rows, cols]. Weight matrices reach hundreds of MB, so this is one parallel pass
// with a branch-free converter per dtype; endianness and Fortran order are resolved outside the inner loop.
#include <sys/mman.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "io/ggml_blocks.hpp"
#include "nmscope/error.hpp"
#include "nmscope/half.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

#ifdef MADV_POPULATE_WRITE
constexpr int kMadvisePopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvisePopulateWrite = 23;  // Linux 5.14 uapi value; older libc headers lack the name
#endif

constexpr std::size_t kGrainElements = 1 << 18;

// A fresh output matrix is untouched memory: taking one page fault per 4 KiB page costs more than the conversion
// itself (45M fp16 values: ~44k faults). Asking the kernel to populate each worker's slice in one call removes the
// per-page trap; on kernels without MADV_POPULATE_WRITE (< 5.14) the call fails and the loop faults as before.
void populate_for_writing(float* begin, float* end) {
#ifdef __linux__
  constexpr uintptr_t kPage = 4096;
  const uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + kPage - 1) & ~(kPage - 1);
  const uintptr_t last = reinterpret_cast<uintptr_t>(end) & ~(kPage - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, kMadvisePopulateWrite);
#endif
}

// FP8 E4M3 ("fn" variant, as safetensors/PyTorch use it): bias 7, no infinities, S.1111.111 is NaN.
float decode_e4m3(uint8_t bits) {
  const float sign = (bits & 0x80) ? -1.0f : 1.0f;
  const int exponent = (bits >> 3) & 0xf;
  const int mantissa = bits & 0x7;
  if (exponent == 0xf && mantissa == 0x7) return std::numeric_limits<float>::quiet_NaN();
  if (exponent == 0) return sign * static_cast<float>(mantissa) * 0x1p-9f;
  return sign * std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
}

// FP8 E5M2: bias 15, IEEE-like (all-ones exponent is inf or NaN).
float decode_e5m2(uint8_t bits) {
  const float sign = (bits & 0x80) ? -1.0f : 1.0f;
  const int exponent = (bits >> 2) & 0x1f;
  const int mantissa = bits & 0x3;
  if (exponent == 0x1f) return mantissa ? std::numeric_limits<float>::quiet_NaN() : sign * INFINITY;
  if (exponent == 0) return sign * static_cast<float>(mantissa) * 0x1p-16f;
  return sign * std::ldexp(1.0f + static_cast<float>(mantissa) / 4.0f, exponent - 15);
}

template <float (*Decode)(uint8_t)>
const float* fp8_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> values{};
    for (int bits = 0; bits < 256; ++bits) values[bits] = Decode(static_cast<uint8_t>(bits));
    return values;
  }();
  return table.data();
}

template <typename Bits>
Bits byteswap(Bits value) {
  if constexpr (sizeof(Bits) == 2)
    return __builtin_bswap16(value);
  else if constexpr (sizeof(Bits) == 4)
    return __builtin_bswap32(value);
  else if constexpr (sizeof(Bits) == 8)
    return __builtin_bswap64(value);
  else
    return value;
}

// Source element index of output element (row, col) for npy fortran_order: the whole array is stored with the first
// dimension fastest, so column `col` of the folded matrix starts at col * rows and each row has a fixed base offset.
std::vector<int64_t> fortran_row_bases(const std::vector<int64_t>& shape, int64_t rows) {
  std::vector<int64_t> bases(static_cast<std::size_t>(rows));
  const std::size_t leading = shape.empty() ? 0 : shape.size() - 1;
  std::vector<int64_t> index(leading, 0);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t offset = 0, stride = 1;
    for (std::size_t d = 0; d < leading; ++d) {
      offset += index[d] * stride;
      stride *= shape[d];
    }
    bases[static_cast<std::size_t>(row)] = offset;
    for (std::size_t d = leading; d-- > 0;) {  // advance the C-order multi-index, last leading dim fastest
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return bases;
}

template <typename Bits, typename Convert>
void decode_elements(const RawTensor& tensor, MatrixF& out, Convert convert) {
  const std::byte* source = tensor.bytes.data();
  const bool swap = tensor.big_endian && sizeof(Bits) > 1;
  float* destination = out.data();
  const int64_t count = out.size();

  auto load = [source](int64_t index) {
    Bits bits;
    std::memcpy(&bits, source + index * static_cast<int64_t>(sizeof(Bits)), sizeof(Bits));
    return bits;
  };

  if (!tensor.column_major) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, count, kGrainElements), [&](const auto& range) {
      populate_for_writing(destination + range.begin(), destination + range.end());
      if (swap) {
        for (int64_t i = range.begin(); i != range.end(); ++i) destination[i] = convert(byteswap(load(i)));
      } else {
        for (int64_t i = range.begin(); i != range.end(); ++i) destination[i] = convert(load(i));
      }
    });
    return;
  }

  const int64_t rows = out.rows(), cols = out.cols();
  const std::vector<int64_t> bases = fortran_row_bases(tensor.info.shape, rows);
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(cols, 1))),
      [&](const auto& range) {
        for (int64_t row = range.begin(); row != range.end(); ++row) {
          const int64_t base = bases[static_cast<std::size_t>(row)];
          float* row_out = destination + row * cols;
          for (int64_t col = 0; col < cols; ++col) {
            Bits bits = load(base + col * rows);
            row_out[col] = convert(swap ? byteswap(bits) : bits);
          }
        }
      });
}

// ggml block types: every row is a whole number of blocks (the reader checked), so rows decode independently.
MatrixF decode_blocks(const RawTensor& tensor) {
  const TensorInfo& info = tensor.info;
  const DTypeBlock block = dtype_block(info.dtype);
  const int64_t rows = info.rows(), cols = info.cols();
  const int64_t blocks_per_row = cols / int64_t(block.elements);
  if (cols % int64_t(block.elements) != 0 ||
      tensor.bytes.size() != static_cast<std::size_t>(rows * blocks_per_row) * block.bytes) {
    throw Error(info.name, "stored size " + std::to_string(tensor.bytes.size()) + " bytes does not match its shape");
  }
  MatrixF out(rows, cols);
  const int64_t row_bytes = blocks_per_row * int64_t(block.bytes);
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(cols, 1))),
      [&](const auto& range) {
        for (int64_t row = range.begin(); row != range.end(); ++row) {
          io::decode_ggml_blocks(info.dtype, tensor.bytes.data() + row * row_bytes, blocks_per_row,
                                 out.data() + row * cols);
        }
      });
  return out;
}

}  // namespace

MatrixF decode_matrix(const RawTensor& tensor) {
  const TensorInfo& info = tensor.info;
  if (dtype_is_block_quantized(info.dtype)) return decode_blocks(tensor);
  const std::size_t element_size = dtype_size(info.dtype);
  if (element_size == 0) {
    throw Error(info.name, info.note.empty() ? "type " + info.stored_type + " cannot be decoded" : info.note);
  }
  const int64_t rows = info.rows(), cols = info.cols();
  if (tensor.bytes.size() != static_cast<std::size_t>(info.element_count()) * element_size) {
    throw Error(info.name, "stored size " + std::to_string(tensor.bytes.size()) + " bytes does not match its shape");
  }
  MatrixF out(rows, cols);
  if (out.size() == 0) return out;

  switch (info.dtype) {
    case DType::F64:
      decode_elements<uint64_t>(tensor, out, [](uint64_t b) { return static_cast<float>(std::bit_cast<double>(b)); });
      break;
    case DType::F32: decode_elements<uint32_t>(tensor, out, [](uint32_t b) { return std::bit_cast<float>(b); }); break;
    case DType::F16: {
      const float* table = fp16_to_fp32_table();
      decode_elements<uint16_t>(tensor, out, [table](uint16_t b) { return table[b]; });
      break;
    }
    case DType::BF16: decode_elements<uint16_t>(tensor, out, [](uint16_t b) { return bf16_bits_to_float(b); }); break;
    case DType::F8_E4M3: {
      const float* table = fp8_table<decode_e4m3>();
      decode_elements<uint8_t>(tensor, out, [table](uint8_t b) { return table[b]; });
      break;
    }
    case DType::F8_E5M2: {
      const float* table = fp8_table<decode_e5m2>();
      decode_elements<uint8_t>(tensor, out, [table](uint8_t b) { return table[b]; });
      break;
    }
    case DType::I64:
      decode_elements<uint64_t>(tensor, out, [](uint64_t b) { return static_cast<float>(static_cast<int64_t>(b)); });
      break;
    case DType::I32:
      decode_elements<uint32_t>(tensor, out, [](uint32_t b) { return static_cast<float>(static_cast<int32_t>(b)); });
      break;
    case DType::I16:
      decode_elements<uint16_t>(tensor, out, [](uint16_t b) { return static_cast<float>(static_cast<int16_t>(b)); });
      break;
    case DType::I8:
      decode_elements<uint8_t>(tensor, out, [](uint8_t b) { return static_cast<float>(static_cast<int8_t>(b)); });
      break;
    case DType::U64: decode_elements<uint64_t>(tensor, out, [](uint64_t b) { return static_cast<float>(b); }); break;
    case DType::U32: decode_elements<uint32_t>(tensor, out, [](uint32_t b) { return static_cast<float>(b); }); break;
    case DType::U16: decode_elements<uint16_t>(tensor, out, [](uint16_t b) { return static_cast<float>(b); }); break;
    case DType::U8: decode_elements<uint8_t>(tensor, out, [](uint8_t b) { return static_cast<float>(b); }); break;
    case DType::Bool: decode_elements<uint8_t>(tensor, out, [](uint8_t b) { return b ? 1.0f : 0.0f; }); break;
    default:
      break;  // Unsupported: refused above; block types: decode_blocks
  }
  return out;
}

}  // namespace nmscope
