#pragma once
// tokenizer.json "truncation" and "padding", applied to one sequence as Hugging Face `tokenizers` applies them in
// encode(): the text's own ids are cut to max_length less the post-processor's special tokens (from the right, or
// from the left for direction Left), the special tokens added, then the result padded (Fixed length, or
// BatchLongest, which for one sequence is its own length; rounded up to pad_to_multiple_of) with pad_id on the
// padding's side. The stride and overflowing pieces are not produced: nmscope runs the first window only.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nmscope::tokenizer {

struct Truncation {
  int64_t max_length = -1;  // -1: none
  bool from_left = false;   // direction Left: keep the end of the text
};

struct Padding {
  bool enabled = false;
  int64_t fixed_length = -1;  // Fixed(n); -1: BatchLongest
  int64_t multiple = 0;       // pad_to_multiple_of; 0: none
  int64_t pad_id = 0;
  bool on_left = false;  // direction Left
};

Truncation read_truncation(const nlohmann::json& truncation, const std::string& path);
Padding read_padding(const nlohmann::json& padding, const std::string& path);

// Cuts `content` (the text's ids, before special tokens) so that with `special_tokens` more it fits.
void truncate(std::vector<int64_t>& content, int64_t special_tokens, const Truncation& truncation);
// Pads `ids`; `mask` (1 per id on entry) gets 0 for each pad.
void pad(std::vector<int64_t>& ids, std::vector<int8_t>& mask, const Padding& padding);

}  // namespace nmscope::tokenizer
