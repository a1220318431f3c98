#pragma once
// tokenizer.json "model": {"type": "Unigram"} (SentencePiece Unigram, as T5, ALBERT, XLM-R ship it): the segmentation
// of a word into vocabulary pieces with the highest total score (Viterbi), characters no piece covers scored as
// [UNK] = lowest score - 10 and fused, then byte_fallback to <0xNN> for unknown pieces when the model asks for it;
// Unigram::encode_optimized and Model::tokenize of Hugging Face `tokenizers`.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "model/tokenizer/token_model.hpp"

namespace nmscope::tokenizer {

class UnigramModel final : public TokenModel {
 public:
  UnigramModel(const nlohmann::json& model, const std::string& path);
  void tokenize(const std::string& word, std::vector<int64_t>& ids) const override;
  int64_t id_of(const std::string& token) const override;

 private:
  std::string path_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<double> scores_;
  std::size_t longest_piece_bytes_ = 0;
  int64_t unknown_ = -1;
  double unknown_score_ = 0.0;
  bool byte_fallback_ = false;
};

}  // namespace nmscope::tokenizer
