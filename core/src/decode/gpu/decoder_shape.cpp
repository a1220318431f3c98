// The decoder's shapes, its KV cache formats and its memory bill (gpu_decoder.hpp): plain host code, built with or
// without CUDA.
#include "nmscope/error.hpp"
#include "nmscope/gpu_decoder.hpp"

namespace nmscope {

const char* kv_cache_name(KvCache cache) { return cache == KvCache::Int8 ? "int8" : "fp16"; }

KvCache parse_kv_cache(const std::string& text) {
  if (text == "fp16") return KvCache::Fp16;
  if (text == "int8") return KvCache::Int8;
  throw SettingError(Setting::KvCache, "'" + text + "' is not a KV cache format (fp16 or int8)");
}

int64_t kv_cache_row_bytes(KvCache cache, int64_t head_dim) {
  return cache == KvCache::Int8 ? head_dim + 4 : head_dim * 2;  // int8: codes and one fp32 scale
}

DecoderShape DecoderShape::tiny() {
  DecoderShape shape;
  shape.name = "tiny";
  shape.hidden = 256;
  shape.intermediate = 512;
  shape.blocks = 2;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.head_dim = 64;
  shape.vocab = 1024;
  return shape;
}

std::string DecoderShape::unsupported_reason() const {
  if (hidden <= 0 || intermediate <= 0 || blocks <= 0 || heads <= 0 || kv_heads <= 0 || vocab <= 0)
    return "every dimension must be positive";
  if (heads % kv_heads != 0) return "heads must be a multiple of kv_heads";
  if (hidden != heads * head_dim) return "hidden must equal heads x head_dim";
  if (head_dim != 16 && head_dim != 32 && head_dim != 64 && head_dim != 128)
    return "the attention kernel supports head_dim 16, 32, 64 and 128";
  if (hidden > 16384) return "the norm kernels hold a row of at most 16384 in registers";
  // Activations are held with rows padded to 256 columns (zeros), so any width the 8-wide loads divide will do.
  if (hidden % 8 != 0 || intermediate % 8 != 0) return "hidden and intermediate must be multiples of 8";
  if (sliding_window < 0) return "the sliding window must not be negative";
  return "";
}

const char* linear_role_name(LinearRole role) {
  switch (role) {
    case LinearRole::Qkv:
      return "qkv";
    case LinearRole::Output:
      return "o";
    case LinearRole::GateUp:
      return "gate_up";
    case LinearRole::Down:
      return "down";
    case LinearRole::Head:
      return "head";
  }
  return "?";
}

int64_t EmbeddingWeights::storage_bytes(const DecoderShape& shape) const {
  if (!quantized) return shape.vocab * shape.hidden * 2;
  return int64_t(codes.size()) + int64_t(scales.size()) * 2;
}

int64_t EmbeddingWeights::row_bytes(const DecoderShape& shape) const {
  if (!quantized) return shape.hidden * 2;
  return shape.hidden / 2 + (shape.hidden + 127) / 128 * 2;
}

int64_t decoder_required_bytes(const DecoderShape& shape, const std::vector<int64_t>& linear_bytes_per_block,
                               const DecodeCase& decode_case) {
  const int64_t batch_pad = (decode_case.batch + 127) / 128 * 128;
  int64_t weights = 0;
  for (size_t role = 0; role < linear_bytes_per_block.size(); ++role)
    weights += linear_bytes_per_block[role] * (role == size_t(LinearRole::Head) ? 1 : shape.blocks);
  weights += shape.vocab * shape.hidden * 2 + (2 * shape.blocks + 1) * shape.hidden * 2;
  const int64_t kv = 2 * shape.blocks * decode_case.batch * shape.kv_heads * (decode_case.context + 1) *
                     kv_cache_row_bytes(decode_case.kv_cache, shape.head_dim);
  // Residual stream, normed input, attention output, o and down outputs, fused q/k/v and gate/up outputs, the SwiGLU
  // activations, logits (and their fp32 copy), attention partials of up to 64 splits.
  const int64_t activations = batch_pad * (shape.hidden * (4 + 2 + 2 + 4 + 4) + shape.qkv_rows() * 4 +
                                           2 * shape.intermediate * 4 + shape.intermediate * 2 + shape.vocab * 8) +
                              decode_case.batch * shape.heads * 64 * (shape.head_dim + 2) * 4;
  const int64_t workspaces = int64_t(256) << 20;  // cuBLASLt / cuSPARSELt workspaces, staging, the CUDA context's own
  return weights + kv + activations + workspaces;
}

}  // namespace nmscope
