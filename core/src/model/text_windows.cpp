// A text file as evaluation or calibration tokens: the model's own tokenizer over the whole text, then consecutive
// windows of a fixed length (the remainder after the last whole window is left out, as perplexity tools do).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nmscope/error.hpp"
#include "nmscope/model.hpp"
#include "nmscope/token_ids.hpp"
#include "nmscope/tokenizer.hpp"

namespace nmscope {

namespace {
constexpr std::uintmax_t kMaxTextBytes = 64ull << 20;
}  // namespace

TokenIds text_windows(const Model& model, const std::string& path, int64_t window, int64_t max_windows) {
  if (window < 2) throw Error(path, "a window of " + std::to_string(window) + " tokens predicts nothing (at least 2)");
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) throw Error(path, "no such text file");
  if (std::filesystem::file_size(path, error) > kMaxTextBytes) throw Error(path, "larger than 64 MB");
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  if (!stream.good() && !stream.eof()) throw Error(path, "cannot be read");
  const auto tokenizer = Tokenizer::open(model.directory());
  const std::vector<int64_t> ids = tokenizer->encode(text.str());
  int64_t windows = int64_t(ids.size()) / window;
  if (windows == 0)
    throw Error(path,
                "has " + std::to_string(ids.size()) + " tokens, fewer than one window of " + std::to_string(window));
  if (max_windows > 0) windows = std::min(windows, max_windows);
  TokenIds tokens;
  tokens.sequences = windows;
  tokens.tokens = window;
  tokens.ids.assign(ids.begin(), ids.begin() + windows * window);
  return tokens;
}

}  // namespace nmscope
