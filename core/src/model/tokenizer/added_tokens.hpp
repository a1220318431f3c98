#pragma once
// tokenizer.json "added_tokens" (special tokens such as <s> or <|begin_of_text|>, and user-added ones): found in the
// text before the model sees it, each becoming its own id, as AddedVocabulary does in Hugging Face `tokenizers`.
// Tokens with "normalized": false are matched in the raw text, the others in the normalized text; the longest match
// at the leftmost position wins; lstrip / rstrip / single_word are honoured.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/tokenizer/text_piece.hpp"

namespace nmscope::tokenizer {

class AddedTokens {
 public:
  AddedTokens(const nlohmann::json& added_tokens, const Normalizer& normalizer, const std::string& path);

  // The text cut at added tokens, normalized between them: what the pre-tokenizer receives.
  std::vector<TextPiece> extract_and_normalize(const std::string& text, const Normalizer& normalizer) const;

  // The id of an added token by its content, or -1.
  int64_t id_of(const std::string& content) const;

 private:
  struct Token {
    icu::UnicodeString pattern;  // its content, normalized when the token is matched in normalized text
    std::string content;
    int64_t id;
    bool single_word, lstrip, rstrip;
  };

  std::vector<TextPiece> split(const TextPiece& piece, const std::vector<Token>& tokens) const;

  std::vector<Token> raw_;
  std::vector<Token> normalized_;
};

}  // namespace nmscope::tokenizer
