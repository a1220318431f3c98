#pragma once
// tokenizer.json normalizer {"type": "Precompiled", "precompiled_charsmap": base64}: the normalization rules a
// SentencePiece model carries (nmt_nfkc and its variants, as T5, ALBERT, XLM-R, mBART ship them), a Darts double-array
// trie from UTF-8 keys to replacement strings. Applied per grapheme cluster exactly as Hugging Face `tokenizers`
// (spm_precompiled) does, quirks included.
#include <nlohmann/json.hpp>
#include <string>

#include "model/tokenizer/text_piece.hpp"

namespace nmscope::tokenizer {

// Throws Error(path, ...) when the charsmap is not base64 or its trie and strings are inconsistent.
Normalizer make_precompiled_normalizer(const nlohmann::json& normalizer, const std::string& path);

}  // namespace nmscope::tokenizer
