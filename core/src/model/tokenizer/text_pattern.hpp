#pragma once
// What tokenizer.json's {"String": ...} and {"Regex": ...} patterns match, and how a piece of text splits at those
// matches (SplitDelimiterBehavior in Hugging Face `tokenizers`). Regexes are Oniguruma syntax there; ICU's engine
// runs them here, with \s and \S spelled out as Oniguruma defines them so both engines agree on whitespace.
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nmscope::tokenizer {

// [start, end) in UTF-16 code units of an icu::UnicodeString.
struct Span {
  int32_t start = 0;
  int32_t end = 0;
  bool is_match = false;
};

class TextPattern {
 public:
  // From {"String": "..."} or {"Regex": "..."}; throws Error(path, ...) naming the pattern when it does not compile.
  TextPattern(const nlohmann::json& pattern, const std::string& path);

  // Non-overlapping leftmost matches, empty ones skipped, as Rust's find_iter gives them. A regex that backtracks
  // without end (a hostile tokenizer.json) is stopped and reported as an Error, not left to hang.
  std::vector<Span> matches(const icu::UnicodeString& text) const;
  // The whole text cut into matched and unmatched spans, in order, covering it (find_matches in `tokenizers`).
  std::vector<Span> spans(const icu::UnicodeString& text) const;

 private:
  std::string path_;
  std::string source_;
  icu::UnicodeString literal_;
  std::shared_ptr<icu::RegexPattern> regex_;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

SplitBehavior split_behavior(const nlohmann::json& name, const std::string& path);

// The spans kept after applying the behavior to match/non-match spans (empty ones dropped).
std::vector<Span> apply_split_behavior(const std::vector<Span>& spans, SplitBehavior behavior);

std::string to_utf8(const icu::UnicodeString& text);
icu::UnicodeString from_utf8(const std::string& text);

}  // namespace nmscope::tokenizer
