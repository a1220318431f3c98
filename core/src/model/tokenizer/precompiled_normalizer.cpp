// The charsmap is [u32 trie size in bytes, little-endian][trie: u32 units][replacement strings, each ending in \0].
// A trie unit packs: label (bits 0-7, bit 31 set for non-leaf checks), has_leaf (bit 8), offset (bits 10-31, shifted
// left by 8 when bit 9 is set); a leaf unit's low 31 bits are the replacement's index into the strings.
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/precompiled_normalizer.hpp"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/ustring.h>

#include <memory>
#include <optional>
#include <vector>

#include "model/tokenizer/text_pattern.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

std::optional<std::string> decode_base64(const std::string& text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z')
      value = c - 'A';
    else if (c >= 'a' && c <= 'z')
      value = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      value = c - '0' + 52;
    else if (c == '+')
      value = 62;
    else if (c == '/')
      value = 63;
    else if (c == '=') {
      ++padding;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    buffer = (buffer << 6) | uint32_t(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((buffer >> bits) & 0xFF));
    }
  }
  if ((text.size() % 4) != 0 || padding > 2) return std::nullopt;
  return out;
}

class CharsMap {
 public:
  CharsMap(const std::string& blob, const std::string& path) : path_(path) {
    if (blob.size() < 4) throw Error(path, "Precompiled charsmap is shorter than its header");
    const uint32_t trie_bytes = read_u32(blob, 0);
    if (trie_bytes > blob.size() - 4) throw Error(path, "Precompiled charsmap's trie runs past its end");
    for (std::size_t at = 4; at + 4 <= 4 + std::size_t(trie_bytes); at += 4) units_.push_back(read_u32(blob, at));
    strings_ = blob.substr(4 + std::size_t(trie_bytes));
    UErrorCode status = U_ZERO_ERROR;
    int32_t length = 0;
    u_strFromUTF8(nullptr, 0, &length, strings_.data(), int32_t(strings_.size()), &status);
    if (status == U_INVALID_CHAR_FOUND || status == U_ILLEGAL_CHAR_FOUND)
      throw Error(path, "Precompiled charsmap's replacement strings are not UTF-8");
    if (units_.empty()) throw Error(path, "Precompiled charsmap has an empty trie");
  }

  // The replacement for the shortest key that is a prefix of `chunk` (spm_precompiled's first_prefix_value).
  std::optional<std::string> transform(const std::string& chunk) const {
    std::size_t node = offset(unit(0));
    for (unsigned char c : chunk) {
      if (c == 0) break;
      node ^= c;
      const uint32_t current = unit(node);
      if ((current & ((1u << 31) | 0xFFu)) != c) return std::nullopt;
      node ^= offset(current);
      if ((current >> 8) & 1u) {
        const std::size_t index = unit(node) & ((1u << 31) - 1);
        if (index > strings_.size()) throw Error(path_, "Precompiled charsmap points past its strings");
        const std::size_t end = strings_.find('\0', index);
        return strings_.substr(index, (end == std::string::npos ? strings_.size() : end) - index);
      }
    }
    return std::nullopt;
  }

 private:
  static uint32_t read_u32(const std::string& blob, std::size_t at) {
    return uint32_t(uint8_t(blob[at])) | uint32_t(uint8_t(blob[at + 1])) << 8 | uint32_t(uint8_t(blob[at + 2])) << 16 |
           uint32_t(uint8_t(blob[at + 3])) << 24;
  }
  static std::size_t offset(uint32_t unit) { return std::size_t(unit >> 10) << ((unit & (1u << 9)) >> 6); }
  uint32_t unit(std::size_t index) const {
    if (index >= units_.size()) throw Error(path_, "Precompiled charsmap's trie points outside itself");
    return units_[index];
  }

  std::string path_;
  std::vector<uint32_t> units_;
  std::string strings_;
};

}  // namespace

Normalizer make_precompiled_normalizer(const nlohmann::json& json, const std::string& path) {
  // `tokenizers` refuses a missing or empty charsmap too, so neither means "no normalization".
  const nlohmann::json& field = json.at("precompiled_charsmap");
  if (!field.is_string()) throw Error(path, "Precompiled charsmap is not a base64 string");
  const std::optional<std::string> blob = decode_base64(field.get<std::string>());
  if (!blob) throw Error(path, "Precompiled charsmap is not base64");
  auto charsmap = std::make_shared<const CharsMap>(*blob, path);
  return [charsmap, path](TextPiece& piece) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> graphemes(
        icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) throw Error(path, "no grapheme segmentation in this ICU");
    graphemes->setText(piece.text);
    std::string out;
    for (int32_t start = graphemes->first(), end = graphemes->next(); end != icu::BreakIterator::DONE;
         start = end, end = graphemes->next()) {
      const std::string grapheme = to_utf8(icu::UnicodeString(piece.text, start, end - start));
      if (grapheme.size() < 6)
        if (const auto replacement = charsmap->transform(grapheme)) {
          out += *replacement;
          continue;
        }
      for (int32_t index = start; index < end; index = piece.text.moveIndex32(index, 1)) {
        const std::string character = to_utf8(icu::UnicodeString(piece.text.char32At(index)));
        const auto replacement = charsmap->transform(character);
        out += replacement ? *replacement : character;
      }
    }
    piece.text = from_utf8(out);
  };
}

}  // namespace nmscope::tokenizer
#endif
