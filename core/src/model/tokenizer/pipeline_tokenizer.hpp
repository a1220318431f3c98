#pragma once
// The tokenizer.json pipeline of Hugging Face `tokenizers` for BPE and Unigram models: added tokens found first,
// normalizer, pre-tokenizer, model per word, post-processor's special tokens. WordPiece (BERT) has its own class.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nmscope/tokenizer.hpp"

namespace nmscope::tokenizer {

std::unique_ptr<Tokenizer> make_pipeline_tokenizer(const nlohmann::json& json, const std::string& path);
std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(const nlohmann::json& json, const std::string& path);

}  // namespace nmscope::tokenizer
