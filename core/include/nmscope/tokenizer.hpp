#pragma once
// Text to token ids with the tokenizer a model directory ships (tokenizer.json, as Hugging Face `tokenizers` writes
// it), so a user can run a model on sentences instead of preparing ids. The ids are those `tokenizers` gives
// (tests/core/model/test_tokenizers_reference.cpp checks them against the library itself). Supported:
// - WordPiece: the BERT pipeline (BertNormalizer, BertPreTokenizer or Whitespace, [CLS] ... [SEP]);
// - BPE: byte-level (GPT-2, RoBERTa, LLaMA-3, Qwen2: ByteLevel, optionally after a Split regex) and SentencePiece-style
//   (LLaMA-2, Mistral: Prepend/Replace normalizers or Metaspace, unk_token, byte_fallback to <0xNN>);
// - Unigram (SentencePiece: T5, ALBERT, XLM-R): Viterbi over scored pieces, unk_id, byte_fallback, Metaspace, and
//   SentencePiece's own normalization rules (the Precompiled charsmap).
// Added tokens (<s>, <|begin_of_text|>, ...) in the text become their ids. Normalizers NFC/NFD/NFKC/NFKD, Lowercase,
// StripAccents, Strip, Replace, Prepend, BertNormalizer, Precompiled, Nmt, Sequence; pre-tokenizers ByteLevel, Split,
// Metaspace, BertPreTokenizer, Whitespace, WhitespaceSplit, Digits, Punctuation, CharDelimiterSplit, Sequence;
// post-processors TemplateProcessing, Bert/RobertaProcessing, ByteLevel, Sequence. Any other component
// (UnicodeScripts, BPE dropout, ...) is refused with an Error naming the file and the component, never tokenized
// differently. Unicode and regexes need ICU (libicu-dev); a build
// without it refuses text input.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nmscope {

// One text as Hugging Face `tokenizers` encodes it with the file's truncation and padding: the ids and the attention
// mask (1 for a token of the text or a special token, 0 for padding).
struct TokenEncoding {
  std::vector<int64_t> ids;
  std::vector<int8_t> attention_mask;
  // The ids a model runs on: padding left out (an attention mask hides it, so the outputs are the same).
  std::vector<int64_t> unpadded() const;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of one text with the post-processor's special tokens ([CLS] ... [SEP], <s> ...); no truncation or padding.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // What `tokenizers`' encode() gives with tokenizer.json's "truncation" and "padding" (MiniLM's: 128 ids, the text
  // cut to 126 between [CLS] and [SEP], short texts padded with [PAD]).
  virtual TokenEncoding encode_as_configured(const std::string& text) const = 0;

  // Reads <directory>/tokenizer.json, or a llama.cpp model file's tokenizer.ggml.* (gguf_tokenizer.hpp). Throws
  // Error(path, reason) when it is missing, malformed or of an unsupported kind, or when this build has no Unicode
  // support.
  static std::unique_ptr<Tokenizer> open(const std::string& directory);
};

bool text_input_available();  // false in a build without ICU

}  // namespace nmscope
