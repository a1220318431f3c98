#pragma once
// tokenizer.json "pre_tokenizer": ByteLevel (GPT-2's regex and byte-to-unicode mapping), Split (String or Regex
// pattern, every behavior, invert), Metaspace (prepend schemes always / first / never), BertPreTokenizer, Whitespace,
// WhitespaceSplit, Digits, Punctuation, CharDelimiterSplit and Sequence, as Hugging Face `tokenizers` defines them.
// Other types are refused with an Error naming the type.
#include <nlohmann/json.hpp>
#include <string>

#include "model/tokenizer/text_piece.hpp"

namespace nmscope::tokenizer {

// null -> the whole piece is one word.
PreTokenizer make_pre_tokenizer(const nlohmann::json& pre_tokenizer, const std::string& path);

}  // namespace nmscope::tokenizer
