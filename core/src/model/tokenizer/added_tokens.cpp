// AddedVocabulary::extract_and_normalize of Hugging Face `tokenizers` (tokenizer/added_vocabulary.rs).
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/added_tokens.hpp"

#include <unicode/uchar.h>

#include "model/tokenizer/json_fields.hpp"
#include "model/tokenizer/text_pattern.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

bool is_whitespace(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }
bool is_word_character(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_isdigit(c) || c == '_'; }

}  // namespace

AddedTokens::AddedTokens(const nlohmann::json& added_tokens, const Normalizer& normalizer, const std::string& path) {
  if (added_tokens.is_null()) return;
  for (const auto& entry : added_tokens) {
    Token token;
    token.content = entry.at("content").get<std::string>();
    token.id = json_token_id(entry.at("id"), path, "added token id");
    token.single_word = entry.value("single_word", false);
    token.lstrip = entry.value("lstrip", false);
    token.rstrip = entry.value("rstrip", false);
    if (token.content.empty()) continue;
    if (entry.value("normalized", !entry.value("special", false))) {
      TextPiece pattern{from_utf8(token.content), false, -1};
      normalizer(pattern);
      token.pattern = pattern.text;
      if (!token.pattern.isEmpty()) normalized_.push_back(std::move(token));
    } else {
      token.pattern = from_utf8(token.content);
      raw_.push_back(std::move(token));
    }
  }
}

int64_t AddedTokens::id_of(const std::string& content) const {
  for (const auto* tokens : {&raw_, &normalized_})
    for (const Token& token : *tokens)
      if (token.content == content) return token.id;
  return -1;
}

std::vector<TextPiece> AddedTokens::split(const TextPiece& piece, const std::vector<Token>& tokens) const {
  const icu::UnicodeString& text = piece.text;
  std::vector<TextPiece> pieces;
  auto add_text = [&](int32_t start, int32_t end) {
    if (end > start)
      pieces.push_back({icu::UnicodeString(text, start, end - start), piece.at_text_start && start == 0, -1});
  };
  int32_t done = 0;    // text before this is already in `pieces`
  int32_t search = 0;  // where the next match may start (the end of the previous match, strips aside)
  // Each token's first occurrence at or after `search` (-1: none left), looked for again only once `search` has passed
  // it: a match does not make every token rescan the text.
  std::vector<int32_t> next_at(tokens.size(), 0);
  for (std::size_t index = 0; index < tokens.size(); ++index) next_at[index] = text.indexOf(tokens[index].pattern);
  while (search < text.length() && !tokens.empty()) {
    // Leftmost-longest over all tokens (aho-corasick's LeftmostLongest).
    int32_t best_start = -1, best_length = 0;
    const Token* best = nullptr;
    for (std::size_t index = 0; index < tokens.size(); ++index) {
      const Token& token = tokens[index];
      if (next_at[index] >= 0 && next_at[index] < search) next_at[index] = text.indexOf(token.pattern, search);
      const int32_t at = next_at[index];
      if (at < 0) continue;
      if (best_start < 0 || at < best_start || (at == best_start && token.pattern.length() > best_length)) {
        best_start = at;
        best_length = token.pattern.length();
        best = &token;
      }
    }
    if (!best) break;
    int32_t start = best_start, stop = best_start + best_length;
    search = stop;
    if (best->single_word) {
      const bool space_before = start == 0 || !is_word_character(text.char32At(text.moveIndex32(start, -1)));
      const bool space_after = stop == text.length() || !is_word_character(text.char32At(stop));
      if (!space_before || !space_after) continue;
    }
    if (best->lstrip) {
      int32_t new_start = start;
      while (new_start > 0 && is_whitespace(text.char32At(text.moveIndex32(new_start, -1))))
        new_start = text.moveIndex32(new_start, -1);
      start = std::max(new_start, done);
    }
    if (best->rstrip)
      while (stop < text.length() && is_whitespace(text.char32At(stop))) stop = text.moveIndex32(stop, 1);
    add_text(done, start);
    pieces.push_back({icu::UnicodeString(text, start, stop - start), false, best->id});
    done = stop;
  }
  add_text(done, text.length());
  return pieces;
}

std::vector<TextPiece> AddedTokens::extract_and_normalize(const std::string& text, const Normalizer& normalizer) const {
  std::vector<TextPiece> pieces;
  for (TextPiece& piece : split(TextPiece{from_utf8(text), true, -1}, raw_)) {
    if (piece.token_id >= 0) {
      pieces.push_back(std::move(piece));
      continue;
    }
    normalizer(piece);
    if (piece.text.isEmpty()) continue;
    for (TextPiece& part : split(piece, normalized_)) pieces.push_back(std::move(part));
  }
  return pieces;
}

}  // namespace nmscope::tokenizer
#endif
