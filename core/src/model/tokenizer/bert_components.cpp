// BertNormalizer and BertPreTokenizer of Hugging Face `tokenizers`, step for step.
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/bert_components.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

bool is_whitespace(UChar32 c) {
  return c == '\t' || c == '\n' || c == '\r' || u_hasBinaryProperty(c, UCHAR_WHITE_SPACE);
}

bool is_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const int8_t type = u_charType(c);  // Rust's char::is_other: Cc, Cf, Cs, Co, Cn
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || type == U_SURROGATE || type == U_PRIVATE_USE_CHAR ||
         type == U_UNASSIGNED;
}

bool is_chinese(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_punctuation(UChar32 c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

}  // namespace

void lowercase_characters(TextPiece& piece) {
  icu::UnicodeString out;
  for (int32_t index = 0; index < piece.text.length(); index = piece.text.moveIndex32(index, 1)) {
    UChar source[2];
    int32_t length = 0;
    U16_APPEND_UNSAFE(source, length, piece.text.char32At(index));
    UChar lowered[8];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t written = u_strToLower(lowered, 8, source, length, "", &status);
    if (U_FAILURE(status))
      out.append(source, 0, length);
    else
      out.append(lowered, 0, written);
  }
  piece.text = out;
}

Normalizer make_bert_normalizer(const nlohmann::json& json) {
  const bool clean_text = json.value("clean_text", true);
  const bool chinese = json.value("handle_chinese_chars", true);
  const bool lowercase = json.value("lowercase", true);
  const bool strip_accents = json.contains("strip_accents") && !json["strip_accents"].is_null()
                                 ? json["strip_accents"].get<bool>()
                                 : lowercase;
  return [clean_text, chinese, lowercase, strip_accents](TextPiece& piece) {
    icu::UnicodeString out;
    for (int32_t index = 0; index < piece.text.length(); index = piece.text.moveIndex32(index, 1)) {
      const UChar32 c = piece.text.char32At(index);
      if (clean_text && (c == 0 || c == 0xFFFD || is_control(c))) continue;
      if (clean_text && is_whitespace(c)) {
        out.append(UChar32(' '));
      } else if (chinese && is_chinese(c)) {
        out.append(UChar32(' ')).append(c).append(UChar32(' '));
      } else {
        out.append(c);
      }
    }
    if (strip_accents) {
      UErrorCode status = U_ZERO_ERROR;
      const icu::UnicodeString decomposed = icu::Normalizer2::getNFDInstance(status)->normalize(out, status);
      if (U_FAILURE(status)) throw Error("tokenizer.json", "Unicode normalization failed");
      out.remove();
      for (int32_t index = 0; index < decomposed.length(); index = decomposed.moveIndex32(index, 1)) {
        const UChar32 c = decomposed.char32At(index);
        if (u_charType(c) != U_NON_SPACING_MARK) out.append(c);
      }
    }
    piece.text = out;
    if (lowercase) lowercase_characters(piece);
  };
}

std::vector<TextPiece> bert_pre_tokenize(const TextPiece& piece) {
  std::vector<TextPiece> words;
  const icu::UnicodeString& text = piece.text;
  int32_t word_start = 0;
  auto flush = [&](int32_t end) {
    if (end > word_start)
      words.push_back(
          {icu::UnicodeString(text, word_start, end - word_start), piece.at_text_start && word_start == 0, -1});
  };
  for (int32_t index = 0; index < text.length();) {
    const UChar32 c = text.char32At(index);
    const int32_t next = text.moveIndex32(index, 1);
    if (is_whitespace(c)) {
      flush(index);
      word_start = next;
    } else if (is_punctuation(c)) {
      flush(index);
      word_start = index;
      flush(next);
      word_start = next;
    }
    index = next;
  }
  flush(text.length());
  return words;
}

}  // namespace nmscope::tokenizer
#endif
