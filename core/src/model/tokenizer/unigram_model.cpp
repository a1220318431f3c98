// Viterbi over byte positions of the word, as Unigram::encode_optimized of Hugging Face `tokenizers` walks it: from
// each character boundary, every vocabulary piece that starts there (shortest first) may extend the best path; a
// strictly better score replaces the previous one, so ties keep the first candidate seen.
#include "model/tokenizer/unigram_model.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "model/tokenizer/json_fields.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

constexpr double kUnknownPenalty = 10.0;

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

}  // namespace

UnigramModel::UnigramModel(const nlohmann::json& model, const std::string& path) : path_(path) {
  double lowest = std::numeric_limits<double>::max();
  for (const auto& entry : model.at("vocab")) {
    if (!entry.is_array() || entry.size() != 2)
      throw Error(path, "Unigram vocab entry " + entry.dump() + " is not [piece, score]");
    const std::string piece = entry[0].get<std::string>();
    const double score = entry[1].get<double>();
    const int64_t id = int64_t(scores_.size());
    ids_.insert_or_assign(piece, id);  // a repeated piece keeps its last id, as the Unigram token map does
    scores_.push_back(score);
    longest_piece_bytes_ = std::max(longest_piece_bytes_, piece.size());
    lowest = std::min(lowest, score);
  }
  if (scores_.empty()) throw Error(path, "Unigram vocab is empty");
  unknown_score_ = lowest - kUnknownPenalty;
  if (model.contains("unk_id") && !model["unk_id"].is_null()) {
    unknown_ = json_token_id(model["unk_id"], path, "Unigram unk_id");
    if (unknown_ >= int64_t(scores_.size()))
      throw Error(path, "Unigram unk_id " + std::to_string(unknown_) + " is outside the vocabulary");
  }
  byte_fallback_ = model.value("byte_fallback", false);
}

int64_t UnigramModel::id_of(const std::string& token) const {
  const auto found = ids_.find(token);
  return found == ids_.end() ? -1 : found->second;
}

void UnigramModel::tokenize(const std::string& word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  struct Node {
    int64_t id = -1;
    double score = 0.0;
    std::ptrdiff_t starts_at = -1;  // -1: no path ends here yet
  };
  const std::size_t size = word.size();
  std::vector<Node> best(size + 1);
  best[0].starts_at = 0;
  for (std::size_t start = 0; start < size;) {
    const double score_here = best[start].score;
    const std::size_t character = std::min(utf8_length(static_cast<unsigned char>(word[start])), size - start);
    bool single_character_piece = false;
    for (std::size_t length = character; length <= std::min(longest_piece_bytes_, size - start);) {
      const auto found = ids_.find(word.substr(start, length));
      if (found != ids_.end()) {
        Node& target = best[start + length];
        const double candidate = scores_[std::size_t(found->second)] + score_here;
        if (target.starts_at < 0 || candidate > target.score)
          target = {found->second, candidate, std::ptrdiff_t(start)};
        if (length == character) single_character_piece = true;
      }
      if (start + length >= size) break;
      length += utf8_length(static_cast<unsigned char>(word[start + length]));
    }
    if (!single_character_piece) {
      if (unknown_ < 0) throw Error(path_, "the text has a character no Unigram piece covers, and there is no unk_id");
      Node& target = best[start + character];
      const double candidate = unknown_score_ + score_here;
      if (target.starts_at < 0 || candidate > target.score) target = {unknown_, candidate, std::ptrdiff_t(start)};
    }
    start += character;
  }

  // Back from the end; consecutive [UNK] pieces fuse into one (Unigram always fuses).
  std::vector<std::string> pieces;
  std::string unknown_run;
  for (std::size_t end = size; end > 0;) {
    const Node& node = best[end];
    const std::size_t start = std::size_t(node.starts_at);
    if (node.id == unknown_) {
      unknown_run.insert(0, word.substr(start, end - start));
    } else {
      if (!unknown_run.empty()) pieces.push_back(std::move(unknown_run));
      unknown_run.clear();
      pieces.push_back(word.substr(start, end - start));
    }
    end = start;
  }
  if (!unknown_run.empty()) pieces.push_back(std::move(unknown_run));
  std::reverse(pieces.begin(), pieces.end());

  for (const std::string& piece : pieces) {
    if (const int64_t id = id_of(piece); id >= 0) {
      ids.push_back(id);
      continue;
    }
    if (byte_fallback_ && append_byte_tokens(piece, ids)) continue;
    if (unknown_ < 0) throw Error(path_, "a Unigram piece is unknown and there is no unk_id");
    ids.push_back(unknown_);
  }
}

}  // namespace nmscope::tokenizer
