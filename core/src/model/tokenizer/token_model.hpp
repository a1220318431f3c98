#pragma once
// The "model" of a tokenizer.json: one pre-tokenized word (UTF-8) to ids. BPE and Unigram implement it.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nmscope::tokenizer {

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // Appends the ids of one word.
  virtual void tokenize(const std::string& word, std::vector<int64_t>& ids) const = 0;
  // The id of a vocabulary entry, or -1.
  virtual int64_t id_of(const std::string& token) const = 0;

 protected:
  // Byte fallback (SentencePiece-style BPE and Unigram): `text` as its bytes' "<0xAB>" tokens. Appends them and
  // returns true only when every byte has one; otherwise appends nothing.
  bool append_byte_tokens(const std::string& text, std::vector<int64_t>& ids) const {
    std::vector<int64_t> bytes;
    for (unsigned char byte : text) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", byte);
      const int64_t id = id_of(name);
      if (id < 0) return false;
      bytes.push_back(id);
    }
    ids.insert(ids.end(), bytes.begin(), bytes.end());
    return true;
  }
};

}  // namespace nmscope::tokenizer
