// TokenizerImpl::encode of Hugging Face `tokenizers` for one sequence: without truncation or padding (encode), or
// with the file's own (encode_as_configured).
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/pipeline_tokenizer.hpp"

#include "model/tokenizer/added_tokens.hpp"
#include "model/tokenizer/bpe_model.hpp"
#include "model/tokenizer/normalizers.hpp"
#include "model/tokenizer/post_processor.hpp"
#include "model/tokenizer/pre_tokenizers.hpp"
#include "model/tokenizer/text_pattern.hpp"
#include "model/tokenizer/truncation_padding.hpp"
#include "model/tokenizer/unigram_model.hpp"
#include "model/tokenizer/wordpiece_model.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

class PipelineTokenizer final : public Tokenizer {
 public:
  PipelineTokenizer(const nlohmann::json& json, const std::string& path)
      : normalizer_(make_normalizer(json.value("normalizer", nlohmann::json()), path)),
        pre_tokenizer_(make_pre_tokenizer(json.value("pre_tokenizer", nlohmann::json()), path)),
        added_(json.value("added_tokens", nlohmann::json()), normalizer_, path) {
    const auto& model = json.at("model");
    const std::string type = model.value("type", std::string("?"));
    if (type == "BPE") {
      model_ = std::make_unique<BpeModel>(model, path);
    } else if (type == "Unigram") {
      model_ = std::make_unique<UnigramModel>(model, path);
    } else if (type == "WordPiece") {
      model_ = std::make_unique<WordPieceModel>(model, path);
    } else {
      throw Error(path, "tokenizer model " + type + " is not supported (WordPiece, BPE and Unigram are)");
    }
    frame_ = read_post_processor(json.value("post_processor", nlohmann::json()), path, [this](const std::string& name) {
      const int64_t added = added_.id_of(name);
      return added >= 0 ? added : model_->id_of(name);
    });
    truncation_ = read_truncation(json.value("truncation", nlohmann::json()), path);
    padding_ = read_padding(json.value("padding", nlohmann::json()), path);
  }

  std::vector<int64_t> encode(const std::string& text) const override { return framed(content_ids(text)); }

  TokenEncoding encode_as_configured(const std::string& text) const override {
    std::vector<int64_t> content = content_ids(text);
    truncate(content, int64_t(frame_.before.size() + frame_.after.size()), truncation_);
    TokenEncoding encoding;
    encoding.ids = framed(std::move(content));
    encoding.attention_mask.assign(encoding.ids.size(), int8_t{1});
    pad(encoding.ids, encoding.attention_mask, padding_);
    return encoding;
  }

 private:
  // The text's own ids: added tokens, then normalizer, pre-tokenizer and model; no special tokens.
  std::vector<int64_t> content_ids(const std::string& text) const {
    std::vector<int64_t> ids;
    for (const TextPiece& piece : added_.extract_and_normalize(text, normalizer_)) {
      if (piece.token_id >= 0) {
        ids.push_back(piece.token_id);
        continue;
      }
      for (const TextPiece& word : pre_tokenizer_(piece)) model_->tokenize(to_utf8(word.text), ids);
    }
    return ids;
  }

  std::vector<int64_t> framed(std::vector<int64_t> content) const {
    std::vector<int64_t> ids = frame_.before;
    ids.insert(ids.end(), content.begin(), content.end());
    ids.insert(ids.end(), frame_.after.begin(), frame_.after.end());
    return ids;
  }

  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  AddedTokens added_;
  std::unique_ptr<TokenModel> model_;
  SpecialTokenFrame frame_;
  Truncation truncation_;
  Padding padding_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_pipeline_tokenizer(const nlohmann::json& json, const std::string& path) {
  return std::make_unique<PipelineTokenizer>(json, path);
}

}  // namespace nmscope::tokenizer
#endif
