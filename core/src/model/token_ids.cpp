// Token ids from .npy, read as integers straight from the mapped bytes (not through the fp32 decoder, which would
// round ids above 2^24), and checked against the model before the forward pass indexes an embedding with them.
#include "nmscope/token_ids.hpp"

#include <cstring>
#include <filesystem>

#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/model.hpp"
#include "nmscope/readers.hpp"
#include "util/portable_random.hpp"

namespace nmscope {

namespace {

template <typename Int>
int64_t element(const RawTensor& tensor, std::size_t index) {
  Int value;
  std::memcpy(&value, tensor.bytes.data() + index * sizeof(Int), sizeof(Int));
  if (tensor.big_endian) {
    if constexpr (sizeof(Int) == 4)
      value = static_cast<Int>(__builtin_bswap32(static_cast<uint32_t>(value)));
    else
      value = static_cast<Int>(__builtin_bswap64(static_cast<uint64_t>(value)));
  }
  return static_cast<int64_t>(value);
}

}  // namespace

TokenIds read_token_ids(const std::string& path) {
  const auto tensors = read_npy(MappedFile::open(path), std::filesystem::path(path).stem().string());
  const RawTensor& tensor = tensors.front();
  const TensorInfo& info = tensor.info;
  if (info.dtype != DType::I32 && info.dtype != DType::I64)
    throw Error(path, "token ids must be int32 or int64, not " + info.stored_type);
  if (info.shape.empty() || info.shape.size() > 2)
    throw Error(path, "token ids must be [sequences, tokens] or [tokens]");
  TokenIds result;
  result.sequences = info.shape.size() == 2 ? info.shape[0] : 1;
  result.tokens = info.shape.back();
  if (result.sequences == 0 || result.tokens == 0) throw Error(path, "holds no token ids");
  result.ids.resize(static_cast<std::size_t>(result.sequences * result.tokens));
  for (int64_t sequence = 0; sequence < result.sequences; ++sequence) {
    for (int64_t position = 0; position < result.tokens; ++position) {
      // Fortran order stores the [sequences, tokens] array column by column.
      const auto stored = static_cast<std::size_t>(tensor.column_major ? position * result.sequences + sequence
                                                                       : sequence * result.tokens + position);
      result.ids[sequence * result.tokens + position] =
          info.dtype == DType::I32 ? element<int32_t>(tensor, stored) : element<int64_t>(tensor, stored);
    }
  }
  return result;
}

void check_token_ids(const TokenIds& tokens, const Model& model, const std::string& subject) {
  const ModelConfig& config = model.config();
  if (tokens.tokens > config.max_positions) {
    throw Error(subject, "sequences of " + std::to_string(tokens.tokens) + " tokens are longer than the model's " +
                             std::to_string(config.max_positions) + " positions");
  }
  for (std::size_t index = 0; index < tokens.ids.size(); ++index) {
    const int64_t id = tokens.ids[index];
    if (id < 0 || id >= config.vocab) {
      throw Error(subject, "token id " + std::to_string(id) + " (sequence " +
                               std::to_string(int64_t(index) / tokens.tokens) + ") is outside the vocabulary of " +
                               std::to_string(config.vocab));
    }
  }
}

TokenIds builtin_token_ids(int64_t vocab, int64_t sequences, int64_t tokens, int64_t first_id) {
  TokenIds result{sequences, tokens, {}};
  PortableRandom random(0x6e6d73636f7065ULL);  // "nmscope"
  const uint64_t span = static_cast<uint64_t>(vocab - first_id);
  result.ids.resize(static_cast<std::size_t>(sequences * tokens));
  for (auto& id : result.ids) id = first_id + static_cast<int64_t>(random.next_u64() % span);
  return result;
}

}  // namespace nmscope
