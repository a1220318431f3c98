// One function per block type; element order and bit positions follow gguf-py's dequantize_blocks (quants.py), whose
// reshapes are spelled out next to each loop. Compiled with -ffp-contract=off (core/CMakeLists.txt): gguf-py rounds
// the product before the offset, and a fused multiply-add would not.
#include "io/ggml_blocks.hpp"

#include <cstring>

#include "nmscope/half.hpp"

namespace nmscope::io {

namespace {

struct Bytes {
  const uint8_t* at;
  uint8_t operator[](int index) const { return at[index]; }
  float half(int offset) const {
    uint16_t bits;
    std::memcpy(&bits, at + offset, sizeof bits);
    return fp16_to_fp32_table()[bits];
  }
};

// Q4_0: d (f16), 16 bytes of nibbles; element j < 16 is the low nibble of byte j, element j + 16 its high nibble.
void q4_0(Bytes block, float* out) {
  const float d = block.half(0);
  for (int j = 0; j < 16; ++j) {
    out[j] = d * float(int(block[2 + j] & 0x0f) - 8);
    out[j + 16] = d * float(int(block[2 + j] >> 4) - 8);
  }
}

// Q4_1: d, m (f16), nibbles as Q4_0, unsigned: d * q + m.
void q4_1(Bytes block, float* out) {
  const float d = block.half(0), m = block.half(2);
  for (int j = 0; j < 16; ++j) {
    out[j] = d * float(block[4 + j] & 0x0f) + m;
    out[j + 16] = d * float(block[4 + j] >> 4) + m;
  }
}

// Q5_0 / Q5_1: the fifth bit of element e is bit e of the little-endian u32 qh.
uint32_t fifth_bits(Bytes block, int offset) {
  uint32_t bits;
  std::memcpy(&bits, block.at + offset, sizeof bits);
  return bits;
}

void q5_0(Bytes block, float* out) {
  const float d = block.half(0);
  const uint32_t qh = fifth_bits(block, 2);
  for (int j = 0; j < 16; ++j) {
    const int low = int(block[6 + j] & 0x0f) | int((qh >> j) & 1u) << 4;
    const int high = int(block[6 + j] >> 4) | int((qh >> (j + 16)) & 1u) << 4;
    out[j] = d * float(low - 16);
    out[j + 16] = d * float(high - 16);
  }
}

void q5_1(Bytes block, float* out) {
  const float d = block.half(0), m = block.half(2);
  const uint32_t qh = fifth_bits(block, 4);
  for (int j = 0; j < 16; ++j) {
    const int low = int(block[8 + j] & 0x0f) | int((qh >> j) & 1u) << 4;
    const int high = int(block[8 + j] >> 4) | int((qh >> (j + 16)) & 1u) << 4;
    out[j] = d * float(low) + m;
    out[j + 16] = d * float(high) + m;
  }
}

// Q8_0: d (f16), 32 int8.
void q8_0(Bytes block, float* out) {
  const float d = block.half(0);
  for (int j = 0; j < 32; ++j) out[j] = float(int8_t(block[2 + j])) * d;
}

// The 2-bit field of element e in Q2_K/Q3_K's 64 bytes of qs: (64, ) -> (2, 1, 32) >> [0, 2, 4, 6] -> (2, 4, 32).
int two_bit_field(Bytes qs, int e) { return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3; }

// Q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit q, d, dmin (f16);
// sub-block of 16: d * scale * q - dmin * min.
void q2_k(Bytes block, float* out) {
  const float d = block.half(80), dmin = block.half(82);
  const Bytes qs{block.at + 16};
  for (int sub = 0; sub < 16; ++sub) {
    const float scale = d * float(block[sub] & 0x0f);
    const float minimum = dmin * float(block[sub] >> 4);
    for (int e = sub * 16; e < sub * 16 + 16; ++e) out[e] = scale * float(two_bit_field(qs, e)) - minimum;
  }
}

// Q3_K: hmask[32], qs[64], 12 bytes of 6-bit signed scales, d (f16). Scale i: low 4 bits from byte i % 8 (nibble
// i / 8), high 2 bits from byte 8 + i % 4 (bits 2 * (i / 4)), minus 32. The third bit of element e is bit e / 32 of
// hmask[e % 32], and a cleared bit subtracts 4.
void q3_k(Bytes block, float* out) {
  const Bytes hmask{block.at}, qs{block.at + 32}, scales{block.at + 96};
  const float d = block.half(108);
  for (int sub = 0; sub < 16; ++sub) {
    const int low = (scales[sub % 8] >> (4 * (sub / 8))) & 0x0f;
    const int high = (scales[8 + sub % 4] >> (2 * (sub / 4))) & 0x03;
    const float scale = d * float(int8_t(uint8_t(low | high << 4)) - 32);
    for (int e = sub * 16; e < sub * 16 + 16; ++e) {
      const int cleared = ((hmask[e % 32] >> (e / 32)) & 1) ^ 1;
      out[e] = scale * float(two_bit_field(qs, e) - (cleared << 2));
    }
  }
}

// Q4_K/Q5_K's 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32 (get_scale_min in quants.py).
void k_scale_min(Bytes scales, int sub, int& scale, int& minimum) {
  if (sub < 4) {
    scale = scales[sub] & 0x3f;
    minimum = scales[sub + 4] & 0x3f;
  } else {
    scale = (scales[sub + 4] & 0x0f) | ((scales[sub - 4] >> 2) & 0x30);
    minimum = (scales[sub + 4] >> 4) | ((scales[sub] >> 2) & 0x30);
  }
}

// Q4_K: d, dmin (f16), scales[12], qs[128]; sub-block s = 2c + k takes nibble k of bytes 32c .. 32c + 31.
void q4_k(Bytes block, float* out) {
  const float d = block.half(0), dmin = block.half(2);
  const Bytes scales{block.at + 4}, qs{block.at + 16};
  for (int sub = 0; sub < 8; ++sub) {
    int scale_code, min_code;
    k_scale_min(scales, sub, scale_code, min_code);
    const float scale = d * float(scale_code), minimum = dmin * float(min_code);
    for (int l = 0; l < 32; ++l) {
      const int q = (qs[(sub / 2) * 32 + l] >> (4 * (sub % 2))) & 0x0f;
      out[sub * 32 + l] = scale * float(q) - minimum;
    }
  }
}

// Q5_K: as Q4_K with qh[32] before qs: the fifth bit of sub-block s, element l is bit s of qh[l].
void q5_k(Bytes block, float* out) {
  const float d = block.half(0), dmin = block.half(2);
  const Bytes scales{block.at + 4}, qh{block.at + 16}, qs{block.at + 48};
  for (int sub = 0; sub < 8; ++sub) {
    int scale_code, min_code;
    k_scale_min(scales, sub, scale_code, min_code);
    const float scale = d * float(scale_code), minimum = dmin * float(min_code);
    for (int l = 0; l < 32; ++l) {
      const int q = ((qs[(sub / 2) * 32 + l] >> (4 * (sub % 2))) & 0x0f) | ((qh[l] >> sub) & 1) << 4;
      out[sub * 32 + l] = scale * float(q) - minimum;
    }
  }
}

// Q6_K: ql[128], qh[64], 16 int8 scales, d (f16). Element e, half h = e / 128: low nibble k = (e % 128) / 64 of
// ql[64h + e % 64], high 2 bits (e % 128) / 32 of qh[32h + e % 32]; minus 32.
void q6_k(Bytes block, float* out) {
  const Bytes ql{block.at}, qh{block.at + 128}, scales{block.at + 192};
  const float d = block.half(208);
  for (int sub = 0; sub < 16; ++sub) {
    const float scale = d * float(int8_t(scales[sub]));
    for (int e = sub * 16; e < sub * 16 + 16; ++e) {
      const int h = e / 128, within = e % 128;
      const int low = (ql[64 * h + e % 64] >> (4 * (within / 64))) & 0x0f;
      const int high = (qh[32 * h + e % 32] >> (2 * (within / 32))) & 0x03;
      out[e] = scale * float(int8_t(uint8_t(low | high << 4)) - 32);
    }
  }
}

using BlockDecoder = void (*)(Bytes, float*);

BlockDecoder decoder_for(DType type) {
  switch (type) {
    case DType::Q4_0:
      return q4_0;
    case DType::Q4_1:
      return q4_1;
    case DType::Q5_0:
      return q5_0;
    case DType::Q5_1:
      return q5_1;
    case DType::Q8_0:
      return q8_0;
    case DType::Q2_K:
      return q2_k;
    case DType::Q3_K:
      return q3_k;
    case DType::Q4_K:
      return q4_k;
    case DType::Q5_K:
      return q5_k;
    case DType::Q6_K:
      return q6_k;
    default:
      return nullptr;
  }
}

}  // namespace

void decode_ggml_blocks(DType type, const std::byte* blocks, int64_t block_count, float* out) {
  const BlockDecoder decode = decoder_for(type);
  const DTypeBlock block = dtype_block(type);
  if (!decode) return;
  const auto* bytes = reinterpret_cast<const uint8_t*>(blocks);
  for (int64_t index = 0; index < block_count; ++index)
    decode(Bytes{bytes + index * int64_t(block.bytes)}, out + index * int64_t(block.elements));
}

}  // namespace nmscope::io
