// Pre-tokenizers of Hugging Face `tokenizers` (pre_tokenizers/{byte_level,split,metaspace,whitespace,sequence}.rs).
// Each cuts a piece at pattern matches; empty words are dropped, as PreTokenizedString::split does.
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/pre_tokenizers.hpp"

#include <unicode/uchar.h>

#include <array>
#include <memory>

#include "model/tokenizer/bert_components.hpp"
#include "model/tokenizer/text_pattern.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

// The regex ByteLevel applies when use_regex is true (GPT-2's).
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::vector<TextPiece> cut(const TextPiece& piece, const std::vector<Span>& spans, SplitBehavior behavior) {
  std::vector<TextPiece> words;
  for (const Span& span : apply_split_behavior(spans, behavior)) {
    TextPiece word{icu::UnicodeString(piece.text, span.start, span.end - span.start),
                   piece.at_text_start && span.start == 0, -1};
    words.push_back(std::move(word));
  }
  return words;
}

// Every character for which `is_match` holds is a match of its own (the char-predicate Pattern of `tokenizers`).
template <typename Predicate>
std::vector<Span> character_spans(const icu::UnicodeString& text, Predicate is_match) {
  if (text.isEmpty()) return {{0, 0, false}};
  std::vector<Span> spans;
  int32_t unmatched_from = 0;
  for (int32_t index = 0; index < text.length(); index = text.moveIndex32(index, 1)) {
    if (!is_match(text.char32At(index))) continue;
    if (unmatched_from < index) spans.push_back({unmatched_from, index, false});
    unmatched_from = text.moveIndex32(index, 1);
    spans.push_back({index, unmatched_from, true});
  }
  if (unmatched_from < text.length()) spans.push_back({unmatched_from, text.length(), false});
  return spans;
}

// ASCII punctuation or General_Category P (is_bert_punc / is_punc of `tokenizers`).
bool is_punctuation(UChar32 c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards, so
// every byte is a visible character in the vocabulary.
const std::array<UChar32, 256>& byte_characters() {
  static const std::array<UChar32, 256> table = [] {
    std::array<UChar32, 256> map{};
    int32_t next = 256;
    for (int32_t byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      map[byte] = printable ? byte : next++;
    }
    return map;
  }();
  return table;
}

PreTokenizer byte_level(const nlohmann::json& json, const std::string& path) {
  const bool add_prefix_space = json.value("add_prefix_space", true);
  std::shared_ptr<TextPattern> regex;
  if (json.value("use_regex", true))
    regex = std::make_shared<TextPattern>(nlohmann::json{{"Regex", kGpt2Pattern}}, path);
  return [add_prefix_space, regex](const TextPiece& input) {
    TextPiece piece = input;
    if (add_prefix_space && !piece.text.startsWith(icu::UnicodeString(u' '))) piece.text.insert(0, u' ');
    std::vector<TextPiece> words =
        regex ? cut(piece, regex->spans(piece.text), SplitBehavior::Isolated) : std::vector<TextPiece>{piece};
    for (TextPiece& word : words) {
      icu::UnicodeString mapped;
      for (unsigned char byte : to_utf8(word.text)) mapped.append(byte_characters()[byte]);
      word.text = mapped;
    }
    return words;
  };
}

PreTokenizer split(const nlohmann::json& json, const std::string& path) {
  auto pattern = std::make_shared<TextPattern>(json.at("pattern"), path);
  const SplitBehavior behavior = split_behavior(json.at("behavior"), path);
  const bool invert = json.value("invert", false);
  return [pattern, behavior, invert](const TextPiece& piece) {
    std::vector<Span> spans = pattern->spans(piece.text);
    if (invert)
      for (Span& span : spans) span.is_match = !span.is_match;
    return cut(piece, spans, behavior);
  };
}

enum class PrependScheme { Always, First, Never };

PreTokenizer metaspace(const nlohmann::json& json, const std::string& path) {
  const icu::UnicodeString replacement = from_utf8(json.value("replacement", std::string("\u2581")));
  if (replacement.countChar32() != 1) throw Error(path, "Metaspace replacement must be one character");
  PrependScheme scheme = json.value("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
  if (json.contains("prepend_scheme")) {
    const std::string name = json.at("prepend_scheme").get<std::string>();
    if (name == "always")
      scheme = PrependScheme::Always;
    else if (name == "first")
      scheme = PrependScheme::First;
    else if (name == "never")
      scheme = PrependScheme::Never;
    else
      throw Error(path, "Metaspace prepend_scheme " + name + " is not supported");
  }
  const bool split_words = json.value("split", true);
  const UChar32 mark = replacement.char32At(0);
  return [replacement, scheme, split_words, mark](const TextPiece& input) {
    TextPiece piece = input;
    piece.text.findAndReplace(icu::UnicodeString(u' '), replacement);
    const bool prepend = scheme == PrependScheme::Always || (scheme == PrependScheme::First && piece.at_text_start);
    if (prepend && !piece.text.startsWith(replacement)) piece.text.insert(0, replacement);
    if (!split_words) return piece.text.isEmpty() ? std::vector<TextPiece>{} : std::vector<TextPiece>{piece};
    return cut(piece, character_spans(piece.text, [mark](UChar32 c) { return c == mark; }),
               SplitBehavior::MergedWithNext);
  };
}

}  // namespace

PreTokenizer make_pre_tokenizer(const nlohmann::json& json, const std::string& path) {
  if (json.is_null())
    return [](const TextPiece& piece) {
      return piece.text.isEmpty() ? std::vector<TextPiece>{} : std::vector<TextPiece>{piece};
    };
  const std::string type = json.value("type", std::string("?"));
  if (type == "ByteLevel") return byte_level(json, path);
  if (type == "Split") return split(json, path);
  if (type == "Metaspace") return metaspace(json, path);
  if (type == "BertPreTokenizer") return bert_pre_tokenize;
  if (type == "Whitespace") {
    // Words and runs of other non-space characters; everything between them (whitespace) is dropped.
    auto words = std::make_shared<TextPattern>(nlohmann::json{{"Regex", R"(\w+|[^\w\s]+)"}}, path);
    return [words](const TextPiece& piece) {
      std::vector<Span> spans = words->spans(piece.text);
      for (Span& span : spans) span.is_match = !span.is_match;
      return cut(piece, spans, SplitBehavior::Removed);
    };
  }
  if (type == "WhitespaceSplit")
    return [](const TextPiece& piece) {
      return cut(piece,
                 character_spans(piece.text, [](UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }),
                 SplitBehavior::Removed);
    };
  if (type == "Digits") {
    // Rust's char::is_numeric: General_Category Nd, Nl or No.
    const SplitBehavior behavior =
        json.value("individual_digits", false) ? SplitBehavior::Isolated : SplitBehavior::Contiguous;
    return [behavior](const TextPiece& piece) {
      return cut(piece, character_spans(piece.text, [](UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0; }),
                 behavior);
    };
  }
  if (type == "Punctuation") {
    const SplitBehavior behavior =
        json.contains("behavior") ? split_behavior(json.at("behavior"), path) : SplitBehavior::Isolated;
    return [behavior](const TextPiece& piece) {
      return cut(piece, character_spans(piece.text, is_punctuation), behavior);
    };
  }
  if (type == "CharDelimiterSplit") {
    const icu::UnicodeString delimiter = from_utf8(json.at("delimiter").get<std::string>());
    if (delimiter.countChar32() != 1) throw Error(path, "CharDelimiterSplit delimiter must be one character");
    const UChar32 mark = delimiter.char32At(0);
    return [mark](const TextPiece& piece) {
      return cut(piece, character_spans(piece.text, [mark](UChar32 c) { return c == mark; }), SplitBehavior::Removed);
    };
  }
  if (type == "Sequence") {
    std::vector<PreTokenizer> steps;
    for (const auto& step : json.at("pretokenizers")) steps.push_back(make_pre_tokenizer(step, path));
    return [steps](const TextPiece& piece) {
      std::vector<TextPiece> words{piece};
      for (const PreTokenizer& step : steps) {
        std::vector<TextPiece> next;
        for (const TextPiece& word : words)
          for (TextPiece& part : step(word)) next.push_back(std::move(part));
        words = std::move(next);
      }
      return words;
    };
  }
  throw Error(path, "pre_tokenizer " + type + " is not supported");
}

}  // namespace nmscope::tokenizer
#endif
