#pragma once
// A decoder's token-embedding table [vocab, hidden] as the decode steps store it (docs/packed-format.md,
// "Token-embedding tables"): an fp16 table for the dense baselines, or, whenever the decode configuration quantizes,
// the packed format with 4-bit symmetric codes and fp16 scales per 128 columns along hidden (no pruning). A step
// reads only its tokens' rows, decoded at lookup. The GPU decoder uploads the same two buffers.
#include <cstdint>
#include <memory>

#include "nmscope/matrix.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

inline constexpr int kEmbeddingBits = 4;
inline constexpr int64_t kEmbeddingGroup = 128;

class EmbeddingTable {
 public:
  EmbeddingTable() = default;
  // `quantized`: packed as docs/packed-format.md says; else the values as given (fp16 storage counted).
  static EmbeddingTable make(MatrixF table, bool quantized);
  // The quantization every quantized table uses: 4 bits, symmetric, groups of 128 along hidden.
  static QuantConfig quant();

  int64_t rows() const;
  int64_t cols() const;
  bool quantized() const { return packed_ != nullptr; }
  const PackedMatrix* packed() const { return packed_.get(); }
  // Row `token`, decoded (packed) or copied, into out[cols()].
  void lookup(int64_t token, float* out) const;
  // The whole table as a dense matrix of the values a lookup returns (the references' table).
  MatrixF decoded() const;
  // Bytes as stored: codes + scales, or 2 per value.
  int64_t storage_bytes() const;

 private:
  std::shared_ptr<const MatrixF> dense_;
  std::shared_ptr<const PackedMatrix> packed_;
};

// The bytes of a table of this shape, without building it (the model rollup's whole-model figure).
int64_t embedding_storage_bytes(int64_t vocab, int64_t hidden, bool quantized);

}  // namespace nmscope
