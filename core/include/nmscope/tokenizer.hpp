#pragma once
// Text to token ids with the tokenizer a model directory ships (tokenizer.json, as Hugging Face `tokenizers` writes
// it), so a user can run a model on sentences instead of preparing ids. Supported: the BERT pipeline (BertNormalizer,
// BertPreTokenizer, WordPiece, TemplateProcessing with [CLS]/[SEP]). BPE and Unigram tokenizers are refused with a
// clear error. Unicode normalization needs ICU (libicu-dev); a build without it refuses text input.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nmscope {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of one text with the post-processor's special tokens ([CLS] ... [SEP]); no truncation or padding.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;

  // Reads <directory>/tokenizer.json. Throws Error(path, reason) when it is missing, malformed or of an unsupported
  // kind, or when this build has no Unicode support.
  static std::unique_ptr<Tokenizer> open(const std::string& directory);
};

bool text_input_available();  // false in a build without ICU

}  // namespace nmscope
