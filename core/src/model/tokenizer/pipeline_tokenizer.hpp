#pragma once
// The tokenizer.json pipeline of Hugging Face `tokenizers`: added tokens found first, normalizer, pre-tokenizer,
// model (WordPiece, BPE or Unigram) per word, post-processor's special tokens.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nmscope/tokenizer.hpp"

namespace nmscope::tokenizer {

std::unique_ptr<Tokenizer> make_pipeline_tokenizer(const nlohmann::json& json, const std::string& path);

}  // namespace nmscope::tokenizer
