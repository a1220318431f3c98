#pragma once
// tokenizer.json "normalizer": NFC/NFD/NFKC/NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, BertNormalizer,
// Precompiled (SentencePiece's charsmap), Nmt and Sequence of them, each as Hugging Face `tokenizers` defines it.
// Others (ByteLevel, ...) are refused with an Error naming the type.
#include <nlohmann/json.hpp>
#include <string>

#include "model/tokenizer/text_piece.hpp"

namespace nmscope::tokenizer {

// null -> leaves the text as it is.
Normalizer make_normalizer(const nlohmann::json& normalizer, const std::string& path);

}  // namespace nmscope::tokenizer
