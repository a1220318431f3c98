#pragma once
// The BERT pieces of a tokenizer.json pipeline: BertNormalizer (clean text, space out CJK ideographs, strip accents,
// lowercase) and BertPreTokenizer (split on whitespace and punctuation), as Hugging Face `tokenizers` defines them
// (normalizers/bert.rs, pre_tokenizers/bert.rs).
#include <nlohmann/json.hpp>
#include <string>

#include "model/tokenizer/text_piece.hpp"

namespace nmscope::tokenizer {

Normalizer make_bert_normalizer(const nlohmann::json& normalizer);
std::vector<TextPiece> bert_pre_tokenize(const TextPiece& piece);

// Rust's char::to_lowercase one character at a time, as NormalizedString::lowercase applies it: no context, so a
// final capital sigma becomes σ, not ς.
void lowercase_characters(TextPiece& piece);

}  // namespace nmscope::tokenizer
