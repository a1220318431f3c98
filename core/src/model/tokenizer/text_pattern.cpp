// Pattern matching and splitting as Hugging Face `tokenizers` does it (tokenizer/pattern.rs, normalizer.rs split()).
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/text_pattern.hpp"

#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

// Oniguruma's \s (Unicode): \t \n \v \f \r, U+0085 and the separators Zs, Zl, Zp. Written out so the result does not
// depend on how this ICU version defines \s.
constexpr const char* kSpaceMembers = "\\t\\n\\x{0B}\\f\\r\\x{85}\\p{Z}";

constexpr int32_t kRegexStepLimit = 5000;  // 5 * 10^7 steps, under a second: far beyond a real pattern on a text line

// Rewrites \s and \S outside and inside character classes; every other construct is the same in both dialects.
std::string icu_syntax(const std::string& onig) {
  std::string out;
  int class_depth = 0;
  for (std::size_t index = 0; index < onig.size(); ++index) {
    const char c = onig[index];
    if (c == '\\' && index + 1 < onig.size()) {
      const char next = onig[++index];
      if (next == 's') {
        out += class_depth > 0 ? std::string(kSpaceMembers) : "[" + std::string(kSpaceMembers) + "]";
      } else if (next == 'S') {
        out += "[^" + std::string(kSpaceMembers) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (c == '[') ++class_depth;
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

}  // namespace

std::string to_utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

icu::UnicodeString from_utf8(const std::string& text) { return icu::UnicodeString::fromUTF8(text); }

TextPattern::TextPattern(const nlohmann::json& pattern, const std::string& path) : path_(path) {
  if (pattern.contains("String")) {
    literal_ = from_utf8(pattern.at("String").get<std::string>());
    return;
  }
  if (!pattern.contains("Regex")) throw Error(path, "pattern " + pattern.dump() + " is neither String nor Regex");
  const std::string source = pattern.at("Regex").get<std::string>();
  source_ = source;
  UErrorCode status = U_ZERO_ERROR;
  UParseError where;
  regex_.reset(icu::RegexPattern::compile(from_utf8(icu_syntax(source)), 0, where, status));
  if (U_FAILURE(status) || !regex_)
    throw Error(path, "regex '" + source + "' does not compile (" + u_errorName(status) + ")");
}

std::vector<Span> TextPattern::matches(const icu::UnicodeString& text) const {
  std::vector<Span> found;
  if (regex_) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> matcher(regex_->matcher(text, status));
    // ICU counts in units of 10^4 engine steps; a real tokenizer regex needs a few steps per character.
    if (U_SUCCESS(status)) matcher->setTimeLimit(kRegexStepLimit, status);
    while (U_SUCCESS(status) && matcher->find(status)) {
      const int32_t start = matcher->start(status), end = matcher->end(status);
      if (end > start) found.push_back({start, end, true});
    }
    if (status == U_REGEX_TIME_OUT) throw Error(path_, "regex '" + source_ + "' backtracks without end on this text");
    if (U_FAILURE(status)) throw Error(path_, "regex '" + source_ + "' failed: " + u_errorName(status));
    return found;
  }
  if (literal_.isEmpty()) return found;
  for (int32_t at = text.indexOf(literal_); at >= 0; at = text.indexOf(literal_, at + literal_.length()))
    found.push_back({at, at + literal_.length(), true});
  return found;
}

std::vector<Span> TextPattern::spans(const icu::UnicodeString& text) const {
  if (text.isEmpty()) return {{0, 0, false}};
  std::vector<Span> spans;
  int32_t previous = 0;
  for (const Span& match : matches(text)) {
    if (match.start != previous) spans.push_back({previous, match.start, false});
    spans.push_back(match);
    previous = match.end;
  }
  if (previous != text.length()) spans.push_back({previous, text.length(), false});
  return spans;
}

SplitBehavior split_behavior(const nlohmann::json& name, const std::string& path) {
  const std::string behavior = name.get<std::string>();
  if (behavior == "Removed") return SplitBehavior::Removed;
  if (behavior == "Isolated") return SplitBehavior::Isolated;
  if (behavior == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (behavior == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (behavior == "Contiguous") return SplitBehavior::Contiguous;
  throw Error(path, "split behavior " + behavior + " is not supported");
}

std::vector<Span> apply_split_behavior(const std::vector<Span>& spans, SplitBehavior behavior) {
  std::vector<Span> kept;  // is_match now means "remove"
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      kept = spans;
      break;
    case SplitBehavior::Isolated:
      for (Span span : spans) kept.push_back({span.start, span.end, false});
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Span& span : spans) {
        if (span.is_match && !previous_match && !kept.empty())
          kept.back().end = span.end;
        else
          kept.push_back({span.start, span.end, false});
        previous_match = span.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto span = spans.rbegin(); span != spans.rend(); ++span) {
        if (span->is_match && !previous_match && !kept.empty())
          kept.back().start = span->start;
        else
          kept.push_back({span->start, span->end, false});
        previous_match = span->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    case SplitBehavior::Contiguous:
      for (const Span& span : spans) {
        if (span.is_match == previous_match && !kept.empty())
          kept.back().end = span.end;
        else
          kept.push_back({span.start, span.end, false});
        previous_match = span.is_match;
      }
      break;
  }
  std::vector<Span> result;
  for (const Span& span : kept)
    if (!span.is_match && span.end > span.start) result.push_back(span);
  return result;
}

}  // namespace nmscope::tokenizer
#endif
