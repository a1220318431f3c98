// The BERT tokenizer of Hugging Face `tokenizers`, step for step (normalizers/bert.rs, pre_tokenizers/bert.rs,
// models/wordpiece): clean text, space out CJK ideographs, strip accents (NFD, drop Mn), lowercase; split on
// whitespace and punctuation; greedy longest-match WordPiece with "##" continuations, a word that cannot be covered
// (or is longer than max_input_chars_per_word) is one [UNK]; then [CLS] ... [SEP] from the template.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "model/tokenizer/pipeline_tokenizer.hpp"
#include "nmscope/error.hpp"

#ifdef NMSCOPE_HAVE_ICU
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#endif

namespace nmscope {

#ifdef NMSCOPE_HAVE_ICU

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

std::string to_utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(const nlohmann::json& json, const std::string& path) : path_(path) {
    const auto& model = json.at("model");
    for (const auto& [piece, id] : model.at("vocab").items()) vocab_.emplace(piece, id.get<int64_t>());
    unknown_ = id_of(model.value("unk_token", std::string("[UNK]")));
    prefix_ = model.value("continuing_subword_prefix", std::string("##"));
    max_word_chars_ = model.value("max_input_chars_per_word", int64_t{100});
    const auto& normalizer = json.at("normalizer");
    if (normalizer.is_null() || normalizer.value("type", "") != "BertNormalizer")
      throw Error(path_, "normalizer is not BertNormalizer; only the BERT WordPiece pipeline is supported");
    clean_text_ = normalizer.value("clean_text", true);
    chinese_ = normalizer.value("handle_chinese_chars", true);
    lowercase_ = normalizer.value("lowercase", true);
    strip_accents_ = normalizer.contains("strip_accents") && !normalizer["strip_accents"].is_null()
                         ? normalizer["strip_accents"].get<bool>()
                         : lowercase_;
    const auto& pre = json.at("pre_tokenizer");
    if (pre.is_null() || pre.value("type", "") != "BertPreTokenizer")
      throw Error(path_, "pre_tokenizer is not BertPreTokenizer; only the BERT WordPiece pipeline is supported");
    read_template(json.at("post_processor"));
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids = prefix_ids_;
    for (const std::string& word : pre_tokenize(normalize(text))) word_pieces(word, ids);
    ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
    return ids;
  }

 private:
  int64_t id_of(const std::string& piece) const {
    const auto found = vocab_.find(piece);
    if (found == vocab_.end()) throw Error(path_, "token '" + piece + "' is not in the vocabulary");
    return found->second;
  }

  // TemplateProcessing "single": special tokens before and after the sequence "A".
  void read_template(const nlohmann::json& post) {
    if (post.is_null()) return;
    if (post.value("type", "") != "TemplateProcessing")
      throw Error(path_, "post_processor " + post.value("type", std::string("?")) + " is not supported");
    bool after = false;
    for (const auto& item : post.at("single")) {
      if (item.contains("Sequence")) {
        after = true;
      } else {
        const int64_t id = id_of(item.at("SpecialToken").at("id").get<std::string>());
        (after ? suffix_ids_ : prefix_ids_).push_back(id);
      }
    }
  }

  icu::UnicodeString normalize(const std::string& text) const {
    const icu::UnicodeString input = icu::UnicodeString::fromUTF8(text);
    icu::UnicodeString out;
    for (int32_t index = 0; index < input.length(); index = input.moveIndex32(index, 1)) {
      const UChar32 c = input.char32At(index);
      if (clean_text_ && (c == 0 || c == 0xFFFD || is_control(c))) continue;
      if (clean_text_ && is_whitespace(c)) {
        out.append(UChar32(' '));
      } else if (chinese_ && is_chinese(c)) {
        out.append(UChar32(' ')).append(c).append(UChar32(' '));
      } else {
        out.append(c);
      }
    }
    if (strip_accents_) {
      UErrorCode status = U_ZERO_ERROR;
      const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
      icu::UnicodeString decomposed = nfd->normalize(out, status);
      if (U_FAILURE(status)) throw Error(path_, "Unicode normalization failed");
      out.remove();
      for (int32_t index = 0; index < decomposed.length(); index = decomposed.moveIndex32(index, 1)) {
        const UChar32 c = decomposed.char32At(index);
        if (u_charType(c) != U_NON_SPACING_MARK) out.append(c);
      }
    }
    if (lowercase_) out.toLower(icu::Locale::getRoot());
    return out;
  }

  static std::vector<std::string> pre_tokenize(const icu::UnicodeString& text) {
    std::vector<std::string> words;
    icu::UnicodeString word;
    auto flush = [&] {
      if (!word.isEmpty()) words.push_back(to_utf8(word));
      word.remove();
    };
    for (int32_t index = 0; index < text.length(); index = text.moveIndex32(index, 1)) {
      const UChar32 c = text.char32At(index);
      if (is_whitespace(c)) {
        flush();
      } else if (is_punctuation(c)) {
        flush();
        words.push_back(to_utf8(icu::UnicodeString(c)));
      } else {
        word.append(c);
      }
    }
    flush();
    return words;
  }

  void word_pieces(const std::string& word, std::vector<int64_t>& ids) const {
    const icu::UnicodeString characters = icu::UnicodeString::fromUTF8(word);
    if (characters.countChar32() > max_word_chars_) {
      ids.push_back(unknown_);
      return;
    }
    std::vector<int64_t> pieces;
    int32_t start = 0;
    while (start < characters.length()) {
      int32_t end = characters.length();
      int64_t match = -1;
      while (end > start) {
        const std::string piece = (start > 0 ? prefix_ : "") + to_utf8(characters.tempSubStringBetween(start, end));
        if (const auto found = vocab_.find(piece); found != vocab_.end()) {
          match = found->second;
          break;
        }
        end = characters.moveIndex32(end, -1);
      }
      if (match < 0) {
        ids.push_back(unknown_);
        return;
      }
      pieces.push_back(match);
      start = end;
    }
    ids.insert(ids.end(), pieces.begin(), pieces.end());
  }

  std::string path_;
  std::unordered_map<std::string, int64_t> vocab_;
  int64_t unknown_ = 0;
  std::string prefix_;
  int64_t max_word_chars_ = 100;
  bool clean_text_ = true, chinese_ = true, lowercase_ = true, strip_accents_ = true;
  std::vector<int64_t> prefix_ids_, suffix_ids_;
};

}  // namespace

namespace tokenizer {

std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(const nlohmann::json& json, const std::string& path) {
  return std::make_unique<WordPieceTokenizer>(json, path);
}

}  // namespace tokenizer

#endif

}  // namespace nmscope
