// WordPiece::tokenize of Hugging Face `tokenizers`: from each position the longest vocabulary entry (with the
// continuation prefix after the first piece), shrinking one character at a time.
#include "model/tokenizer/wordpiece_model.hpp"

#include "model/tokenizer/json_fields.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

bool is_continuation_byte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

int64_t character_count(const std::string& text) {
  int64_t count = 0;
  for (char byte : text) count += is_continuation_byte(byte) ? 0 : 1;
  return count;
}

}  // namespace

WordPieceModel::WordPieceModel(const nlohmann::json& model, const std::string& path) {
  for (const auto& [piece, id] : model.at("vocab").items())
    vocab_.emplace(piece, json_token_id(id, path, "WordPiece vocab id"));
  // An unk_token missing from the vocabulary is an error only once a word needs it, as in `tokenizers`.
  unknown_name_ = model.value("unk_token", std::string("[UNK]"));
  unknown_ = id_of(unknown_name_);
  path_ = path;
  prefix_ = model.value("continuing_subword_prefix", std::string("##"));
  max_word_characters_ = json_count(model, "max_input_chars_per_word", 100, path);
}

int64_t WordPieceModel::id_of(const std::string& token) const {
  const auto found = vocab_.find(token);
  return found == vocab_.end() ? -1 : found->second;
}

int64_t WordPieceModel::unknown_id() const {
  if (unknown_ < 0) throw Error(path_, "WordPiece unk_token '" + unknown_name_ + "' is not in the vocabulary");
  return unknown_;
}

void WordPieceModel::tokenize(const std::string& word, std::vector<int64_t>& ids) const {
  if (character_count(word) > max_word_characters_) {
    ids.push_back(unknown_id());
    return;
  }
  std::vector<int64_t> pieces;
  for (std::size_t start = 0; start < word.size();) {
    std::size_t end = word.size();
    int64_t match = -1;
    while (end > start) {
      match = id_of((start > 0 ? prefix_ : std::string()) + word.substr(start, end - start));
      if (match >= 0) break;
      do --end;
      while (end > start && is_continuation_byte(word[end]));
    }
    if (match < 0) {
      ids.push_back(unknown_id());
      return;
    }
    pieces.push_back(match);
    start = end;
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

}  // namespace nmscope::tokenizer
