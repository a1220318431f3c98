#pragma once
// tokenizer.json "model": {"type": "BPE"}: byte-pair merges by rank over the characters of a word, as Hugging Face
// `tokenizers` (models/bpe) applies them. Covers GPT-2 / LLaMA-3 / Qwen2 byte-level vocabularies (the pre-tokenizer
// maps bytes to characters) and SentencePiece-converted ones (LLaMA-2, Mistral: unk_token, fuse_unk, byte_fallback to
// <0xNN>). Merges may be "a b" strings or [a, b] pairs. Dropout (random merges) is refused: ids must be reproducible.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "model/tokenizer/token_model.hpp"

namespace nmscope::tokenizer {

class BpeModel final : public TokenModel {
 public:
  BpeModel(const nlohmann::json& model, const std::string& path);
  void tokenize(const std::string& word, std::vector<int64_t>& ids) const override;
  int64_t id_of(const std::string& token) const override;

 private:
  struct Merge {
    int64_t rank;
    int64_t merged_id;
  };
  // Applies merges by rank until none applies, in the order Word::merge_all of `tokenizers` does.
  void merge_all(std::vector<int64_t>& symbols) const;
  static uint64_t pair_key(int64_t left, int64_t right) { return (uint64_t(left) << 32) | uint64_t(right); }

  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::string path_;
  std::string unknown_name_;  // empty: no unk_token
  int64_t unknown_ = -1;
  bool fuse_unknown_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_prefix_;
  std::string end_suffix_;
};

}  // namespace nmscope::tokenizer
