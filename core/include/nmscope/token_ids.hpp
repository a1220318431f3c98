#pragma once
// Token ids for a model's forward pass: .npy int32/int64 [sequences, tokens] (a 1-D array is one sequence). Every
// sequence has the same length, so no padding or attention mask is involved.
#include <cstdint>
#include <string>
#include <vector>

namespace nmscope {

class Model;

struct TokenIds {
  int64_t sequences = 0;
  int64_t tokens = 0;        // per sequence
  std::vector<int64_t> ids;  // [sequences, tokens], row-major

  int64_t at(int64_t sequence, int64_t position) const { return ids[sequence * tokens + position]; }
};

// Throws Error(path, reason) when the file is not an integer .npy of one or two dimensions, or is empty.
TokenIds read_token_ids(const std::string& path);
// Throws Error(subject, reason) when an id is outside [0, vocab) or a sequence is longer than the model's positions.
void check_token_ids(const TokenIds& tokens, const Model& model, const std::string& subject);
// A text file tokenized with the model's own tokenizer (tokenizer.json or the GGUF's) and cut into consecutive windows
// of `window` tokens (at most `max_windows` from the start when it is positive); the tail after the last whole window
// is left out. Throws Error(path, reason) when the file is missing, the model has no usable tokenizer, or the text is
// shorter than one window.
TokenIds text_windows(const Model& model, const std::string& path, int64_t window, int64_t max_windows = 0);
// A deterministic token set inside [first_id, vocab): the built-in calibration / evaluation sequences used when the
// user gives none (a fixed-seed generator, so runs repeat).
TokenIds builtin_token_ids(int64_t vocab, int64_t sequences, int64_t tokens, int64_t first_id = 0);

}  // namespace nmscope
