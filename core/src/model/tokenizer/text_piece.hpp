#pragma once
// A piece of the text on its way through a tokenizer.json pipeline: cut out by added tokens and pre-tokenizers,
// rewritten by normalizers, finally handed to the model as one "word".
#include <unicode/unistr.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace nmscope::tokenizer {

struct TextPiece {
  icu::UnicodeString text;
  // Whether the piece begins where the original text begins: Metaspace's prepend_scheme "first" depends on it.
  bool at_text_start = false;
  // The id when the piece is an added token, matched before normalization and never split further; -1 otherwise.
  int64_t token_id = -1;
};

// A normalizer rewrites one piece in place.
using Normalizer = std::function<void(TextPiece&)>;
// A pre-tokenizer cuts one piece into words (and may rewrite them, as ByteLevel does).
using PreTokenizer = std::function<std::vector<TextPiece>(const TextPiece&)>;

}  // namespace nmscope::tokenizer
