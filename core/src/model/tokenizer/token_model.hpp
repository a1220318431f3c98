#pragma once
// The "model" of a tokenizer.json: one pre-tokenized word (UTF-8) to ids. BPE and Unigram implement it.
#include <cstdint>
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
};

}  // namespace nmscope::tokenizer
