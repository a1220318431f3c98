// The decoders' token-embedding table (embedding_table.hpp); its stored form is docs/packed-format.md,
// "Token-embedding tables".
#include "nmscope/embedding_table.hpp"

#include "nmscope/error.hpp"
#include "nmscope/half.hpp"

namespace nmscope {

QuantConfig EmbeddingTable::quant() {
  QuantConfig quant;
  quant.bits = kEmbeddingBits;
  quant.granularity = Granularity::Group;
  quant.group = int(kEmbeddingGroup);
  quant.symmetric = true;
  return quant;
}

EmbeddingTable EmbeddingTable::make(MatrixF table, bool quantized) {
  EmbeddingTable made;
  if (!quantized) {
    made.dense_ = std::make_shared<const MatrixF>(std::move(table));
    return made;
  }
  if (table.cols() % 8 != 0)
    throw Error("embedding table", "hidden " + std::to_string(table.cols()) +
                                       " is not a multiple of 8 (the GPU lookup reads 8 codes at a time)");
  const NMSelection every = select_nm(table, NMPattern::dense(), PruningCriterion::Magnitude);
  made.packed_ = std::make_shared<const PackedMatrix>(compress(table, every, quant()));
  return made;
}

int64_t EmbeddingTable::rows() const { return packed_ ? packed_->rows : dense_ ? dense_->rows() : 0; }
int64_t EmbeddingTable::cols() const { return packed_ ? packed_->cols : dense_ ? dense_->cols() : 0; }

void EmbeddingTable::lookup(int64_t token, float* out) const {
  if (!packed_) {
    for (int64_t j = 0; j < dense_->cols(); ++j) out[j] = (*dense_)(token, j);
    return;
  }
  // Column j: nibble j % 2 of byte j / 2 (low nibble first), code offset by 2^(b-1) = 8, one scale per 128 columns.
  const PackedMatrix& p = *packed_;
  const uint8_t* codes = p.values.data() + token * p.value_row_bytes;
  const uint16_t* scales = p.scales.data() + token * p.scales_per_row;
  for (int64_t j = 0; j < p.cols; ++j) {
    const int code = (codes[j / 2] >> (4 * (j & 1))) & 0xF;
    out[j] = float(code - 8) * half_bits_to_float(scales[j / kEmbeddingGroup]);
  }
}

MatrixF EmbeddingTable::decoded() const {
  if (!packed_) return *dense_;
  return dequantize(*packed_);
}

int64_t EmbeddingTable::storage_bytes() const { return packed_ ? packed_->storage_bytes() : 2 * rows() * cols(); }

int64_t embedding_storage_bytes(int64_t vocab, int64_t hidden, bool quantized) {
  if (!quantized) return 2 * vocab * hidden;
  return packed_storage_bytes(vocab, hidden, NMPattern::dense(), EmbeddingTable::quant());
}

}  // namespace nmscope
