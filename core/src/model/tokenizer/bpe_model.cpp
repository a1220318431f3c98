// BPE::merge_word and Word::merge_all of Hugging Face `tokenizers`: a word starts as one symbol per character (or its
// <0xNN> bytes, or [UNK]); then the adjacent pair with the lowest merge rank is merged, leftmost first among equal
// ranks, until no pair has a merge.
#include "model/tokenizer/bpe_model.hpp"

#include <cstdio>
#include <functional>
#include <queue>

#include "model/tokenizer/json_fields.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

// The byte length of the UTF-8 character starting with `lead`.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

std::string optional_string(const nlohmann::json& model, const char* key) {
  return model.contains(key) && !model[key].is_null() ? model[key].get<std::string>() : std::string();
}

}  // namespace

BpeModel::BpeModel(const nlohmann::json& model, const std::string& path) {
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0.0)
    throw Error(path, "BPE dropout makes ids random; a tokenizer with dropout is not supported");
  for (const auto& [token, id] : model.at("vocab").items())
    vocab_.emplace(token, json_token_id(id, path, "BPE vocab id"));
  continuing_prefix_ = optional_string(model, "continuing_subword_prefix");
  end_suffix_ = optional_string(model, "end_of_word_suffix");
  fuse_unknown_ = model.value("fuse_unk", false);
  byte_fallback_ = model.value("byte_fallback", false);
  ignore_merges_ = model.value("ignore_merges", false);
  // An unk_token missing from the vocabulary is an error only once a character needs it, as in `tokenizers`.
  unknown_name_ = optional_string(model, "unk_token");
  if (!unknown_name_.empty()) unknown_ = id_of(unknown_name_);
  path_ = path;
  int64_t rank = 0;
  for (const auto& entry : model.at("merges")) {
    std::string left, right;
    if (entry.is_string()) {
      const std::string line = entry.get<std::string>();
      const std::size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        throw Error(path, "BPE merge " + std::to_string(rank + 1) + " '" + line + "' is not two tokens");
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else {
      throw Error(path, "BPE merge " + std::to_string(rank + 1) + " is neither \"a b\" nor [a, b]");
    }
    const std::string merged = left + right.substr(std::min(continuing_prefix_.size(), right.size()));
    const int64_t left_id = id_of(left), right_id = id_of(right), merged_id = id_of(merged);
    for (const auto& [token, id] : {std::pair{left, left_id}, {right, right_id}, {merged, merged_id}})
      if (id < 0)
        throw Error(path,
                    "BPE merge " + std::to_string(rank + 1) + " names '" + token + "', which is not in the vocabulary");
    merges_.insert_or_assign(pair_key(left_id, right_id), Merge{rank, merged_id});
    ++rank;
  }
}

int64_t BpeModel::id_of(const std::string& token) const {
  const auto found = vocab_.find(token);
  return found == vocab_.end() ? -1 : found->second;
}

void BpeModel::tokenize(const std::string& word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_)
    if (const int64_t whole = id_of(word); whole >= 0) {
      ids.push_back(whole);
      return;
    }
  std::vector<int64_t> symbols;
  bool unknown_pending = false;  // a fused [UNK] waits for the next known character
  for (std::size_t start = 0; start < word.size();) {
    const std::size_t length = std::min(utf8_length(static_cast<unsigned char>(word[start])), word.size() - start);
    std::string character = word.substr(start, length);
    if (start > 0) character = continuing_prefix_ + character;
    start += length;
    if (start == word.size()) character += end_suffix_;
    if (const int64_t id = id_of(character); id >= 0) {
      if (unknown_pending) symbols.push_back(unknown_);
      unknown_pending = false;
      symbols.push_back(id);
      continue;
    }
    // As in `tokenizers`, byte tokens go in without flushing a pending [UNK] first.
    if (byte_fallback_ && append_byte_tokens(character, symbols)) continue;
    if (unknown_name_.empty()) continue;  // no unk_token: the character is dropped, as `tokenizers` drops it
    if (unknown_ < 0) throw Error(path_, "BPE unk_token '" + unknown_name_ + "' is not in the vocabulary");
    if (unknown_pending && !fuse_unknown_) symbols.push_back(unknown_);
    unknown_pending = true;
  }
  if (unknown_pending) symbols.push_back(unknown_);

  merge_all(symbols);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

void BpeModel::merge_all(std::vector<int64_t>& symbols) const {
  // A linked list over the symbols and a min-heap of candidate merges keyed (rank, position), so a long word (a whole
  // line, for tokenizers without a pre-tokenizer) costs n log n, not n^2. A candidate is stale when its left symbol
  // died or the pair at its position no longer merges into the same token.
  struct Candidate {
    int64_t rank;
    std::size_t position;
    int64_t merged_id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  const std::ptrdiff_t count = std::ptrdiff_t(symbols.size());
  std::vector<std::ptrdiff_t> previous(symbols.size()), next(symbols.size());
  std::vector<bool> alive(symbols.size(), true);
  for (std::ptrdiff_t at = 0; at < count; ++at) {
    previous[std::size_t(at)] = at - 1;
    next[std::size_t(at)] = at + 1 < count ? at + 1 : -1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](std::ptrdiff_t left) {
    if (left < 0 || next[std::size_t(left)] < 0) return;
    const auto merge =
        merges_.find(pair_key(symbols[std::size_t(left)], symbols[std::size_t(next[std::size_t(left)])]));
    if (merge != merges_.end()) queue.push({merge->second.rank, std::size_t(left), merge->second.merged_id});
  };
  for (std::ptrdiff_t at = 0; at + 1 < count; ++at) consider(at);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const std::size_t left = top.position;
    if (!alive[left] || next[left] < 0) continue;
    const std::size_t right = std::size_t(next[left]);
    const auto merge = merges_.find(pair_key(symbols[left], symbols[right]));
    if (merge == merges_.end() || merge->second.merged_id != top.merged_id) continue;
    symbols[left] = top.merged_id;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] >= 0) previous[std::size_t(next[right])] = std::ptrdiff_t(left);
    consider(previous[left]);
    consider(std::ptrdiff_t(left));
  }
  std::size_t kept = 0;
  for (std::size_t at = 0; at < symbols.size(); ++at)
    if (alive[at]) symbols[kept++] = symbols[at];
  symbols.resize(kept);
}

}  // namespace nmscope::tokenizer
