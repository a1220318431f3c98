// Normalizers of Hugging Face `tokenizers` (normalizers/{unicode,utils,strip,replace,prepend}.rs) over ICU.
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/normalizers.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <memory>

#include "model/tokenizer/bert_components.hpp"
#include "model/tokenizer/precompiled_normalizer.hpp"
#include "model/tokenizer/text_pattern.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

Normalizer unicode_form(const icu::Normalizer2* form, const std::string& path) {
  return [form, path](TextPiece& piece) {
    UErrorCode status = U_ZERO_ERROR;
    piece.text = form->normalize(piece.text, status);
    if (U_FAILURE(status)) throw Error(path, "Unicode normalization failed");
  };
}

// Rust's char::is_whitespace is Unicode White_Space.
bool is_whitespace(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }

Normalizer strip(bool left, bool right) {
  return [left, right](TextPiece& piece) {
    int32_t start = 0, end = piece.text.length();
    if (left) {
      while (start < end && is_whitespace(piece.text.char32At(start))) start = piece.text.moveIndex32(start, 1);
      if (start > 0) piece.at_text_start = false;  // the first character left is not the text's first any more
    }
    if (right) {
      while (end > start) {
        const int32_t previous = piece.text.moveIndex32(end, -1);
        if (!is_whitespace(piece.text.char32At(previous))) break;
        end = previous;
      }
    }
    piece.text = icu::UnicodeString(piece.text, start, end - start);  // a copy: tempSubString would alias the buffer
  };
}

// unicode-normalization's is_combining_mark: General_Category Mark (Mn, Mc, Me).
void strip_accents(TextPiece& piece) {
  icu::UnicodeString out;
  for (int32_t index = 0; index < piece.text.length(); index = piece.text.moveIndex32(index, 1)) {
    const UChar32 c = piece.text.char32At(index);
    if ((U_GET_GC_MASK(c) & U_GC_M_MASK) == 0) out.append(c);
  }
  piece.text = out;
}

// Nmt of `tokenizers` (normalizers/unicode.rs): drops ASCII control characters, maps other spaces and U+2581 to ' '.
void nmt(TextPiece& piece) {
  icu::UnicodeString out;
  for (int32_t index = 0; index < piece.text.length(); index = piece.text.moveIndex32(index, 1)) {
    const UChar32 c = piece.text.char32At(index);
    if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F)
      continue;
    const bool space = c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 ||
                       (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF ||
                       c == 0xFFFD;
    out.append(space ? UChar32(' ') : c);
  }
  piece.text = out;
}

Normalizer replace(const nlohmann::json& json, const std::string& path) {
  auto pattern = std::make_shared<TextPattern>(json.at("pattern"), path);
  const icu::UnicodeString content = from_utf8(json.at("content").get<std::string>());
  return [pattern, content](TextPiece& piece) {
    icu::UnicodeString out;
    int32_t previous = 0;
    for (const Span& match : pattern->matches(piece.text)) {
      out.append(piece.text, previous, match.start - previous).append(content);
      previous = match.end;
    }
    out.append(piece.text, previous, piece.text.length() - previous);
    piece.text = out;
  };
}

}  // namespace

Normalizer make_normalizer(const nlohmann::json& json, const std::string& path) {
  if (json.is_null()) return [](TextPiece&) {};
  const std::string type = json.value("type", std::string("?"));
  UErrorCode status = U_ZERO_ERROR;
  if (type == "NFC") return unicode_form(icu::Normalizer2::getNFCInstance(status), path);
  if (type == "NFD") return unicode_form(icu::Normalizer2::getNFDInstance(status), path);
  if (type == "NFKC") return unicode_form(icu::Normalizer2::getNFKCInstance(status), path);
  if (type == "NFKD") return unicode_form(icu::Normalizer2::getNFKDInstance(status), path);
  if (type == "Lowercase") return lowercase_characters;
  if (type == "BertNormalizer") return make_bert_normalizer(json);
  if (type == "StripAccents") return strip_accents;
  if (type == "Nmt") return nmt;
  if (type == "Strip") return strip(json.value("strip_left", true), json.value("strip_right", true));
  if (type == "Replace") return replace(json, path);
  if (type == "Prepend") {
    const icu::UnicodeString prefix = from_utf8(json.at("prepend").get<std::string>());
    return [prefix](TextPiece& piece) {
      if (!piece.text.isEmpty()) piece.text.insert(0, prefix);
    };
  }
  if (type == "Sequence") {
    std::vector<Normalizer> steps;
    for (const auto& step : json.at("normalizers")) steps.push_back(make_normalizer(step, path));
    return [steps](TextPiece& piece) {
      for (const Normalizer& step : steps) step(piece);
    };
  }
  if (type == "Precompiled") return make_precompiled_normalizer(json, path);
  throw Error(path, "normalizer " + type + " is not supported");
}

}  // namespace nmscope::tokenizer
#endif
