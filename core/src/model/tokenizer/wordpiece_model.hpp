#pragma once
// tokenizer.json "model": {"type": "WordPiece"} (BERT): greedy longest-match pieces with "##" continuations; a word
// that cannot be covered, or is longer than max_input_chars_per_word characters, is one [UNK] (models/wordpiece of
// Hugging Face `tokenizers`).
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "model/tokenizer/token_model.hpp"

namespace nmscope::tokenizer {

class WordPieceModel final : public TokenModel {
 public:
  WordPieceModel(const nlohmann::json& model, const std::string& path);
  void tokenize(const std::string& word, std::vector<int64_t>& ids) const override;
  int64_t id_of(const std::string& token) const override;

 private:
  int64_t unknown_id() const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::string path_;
  std::string unknown_name_;
  int64_t unknown_ = -1;
  std::string prefix_;
  int64_t max_word_characters_ = 100;
};

}  // namespace nmscope::tokenizer
