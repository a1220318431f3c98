// TokenizerImpl::encode of Hugging Face `tokenizers` for one sequence without truncation or padding.
#ifdef NMSCOPE_HAVE_ICU
#include "model/tokenizer/pipeline_tokenizer.hpp"

#include "model/tokenizer/added_tokens.hpp"
#include "model/tokenizer/bpe_model.hpp"
#include "model/tokenizer/normalizers.hpp"
#include "model/tokenizer/post_processor.hpp"
#include "model/tokenizer/pre_tokenizers.hpp"
#include "model/tokenizer/text_pattern.hpp"
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
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids = frame_.before;
    for (const TextPiece& piece : added_.extract_and_normalize(text, normalizer_)) {
      if (piece.token_id >= 0) {
        ids.push_back(piece.token_id);
        continue;
      }
      for (const TextPiece& word : pre_tokenizer_(piece)) model_->tokenize(to_utf8(word.text), ids);
    }
    ids.insert(ids.end(), frame_.after.begin(), frame_.after.end());
    return ids;
  }

 private:
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  AddedTokens added_;
  std::unique_ptr<TokenModel> model_;
  SpecialTokenFrame frame_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_pipeline_tokenizer(const nlohmann::json& json, const std::string& path) {
  return std::make_unique<PipelineTokenizer>(json, path);
}

}  // namespace nmscope::tokenizer
#endif
