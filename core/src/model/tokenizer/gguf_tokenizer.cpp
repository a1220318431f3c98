// The pre-tokenizer of each llama.cpp `pre` rule is the one the original tokenizer.json has (llama.cpp's
// llama-vocab.cpp lists the same regexes per rule): GPT-2's ByteLevel regex; SmolLM's digits split before it;
// LLaMA 3's and Qwen2's Split regexes before a ByteLevel without its own.
#include "model/tokenizer/gguf_tokenizer.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

// llama.cpp's token types (llama_token_type): 3 = control (<|im_start|>, <s>), 4 = user-defined; both are matched in
// the text before the model runs, as tokenizer.json's added tokens are.
constexpr int64_t kControlToken = 3;
constexpr int64_t kUserDefinedToken = 4;
constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

nlohmann::json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

nlohmann::json split_then_byte_level(const char* regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
            byte_level(false)}}};
}

nlohmann::json pre_tokenizer(const std::string& rule, const std::string& path) {
  if (rule == "default" || rule == "gpt-2" || rule == "gpt2") return byte_level(true);
  if (rule == "smollm")
    return {{"type", "Sequence"},
            {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}};
  if (rule == "llama-bpe" || rule == "llama3") return split_then_byte_level(kLlama3Split);
  if (rule == "qwen2") return split_then_byte_level(kQwen2Split);
  throw Error(path, "tokenizer.ggml.pre '" + rule +
                        "' is not modelled (default, gpt-2, smollm, llama-bpe and qwen2 are); pass token ids instead");
}

// A SentencePiece BPE vocabulary (tokenizer.ggml.model "llama") has scores instead of merges: SentencePiece merges the
// adjacent pair whose merged piece has the highest score. As byte-pair merges ranked by that score (each piece's
// splits into two vocabulary pieces, pieces in descending score order, splits of one piece by the ids of their
// halves) the same text gives the same pieces; transformers' GGUF loader converts these vocabularies the same way.
nlohmann::json merges_from_scores(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                                  const std::vector<int64_t>& types, const std::string& path) {
  if (scores.size() != tokens.size())
    throw Error(path, "tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                          std::to_string(tokens.size()) + " tokens");
  std::unordered_map<std::string, int64_t> ids;
  for (std::size_t id = 0; id < tokens.size(); ++id) ids.emplace(tokens[id], int64_t(id));
  std::vector<std::size_t> order(tokens.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  nlohmann::json merges = nlohmann::json::array();
  for (std::size_t id : order) {
    if (!types.empty() && types[id] != 1) continue;  // only normal pieces are merge results
    const std::string& piece = tokens[id];
    std::vector<std::pair<int64_t, int64_t>> splits;
    for (std::size_t cut = 1; cut < piece.size(); ++cut) {
      if ((static_cast<unsigned char>(piece[cut]) & 0xC0) == 0x80) continue;  // inside a UTF-8 character
      const auto left = ids.find(piece.substr(0, cut)), right = ids.find(piece.substr(cut));
      if (left != ids.end() && right != ids.end()) splits.emplace_back(left->second, right->second);
    }
    std::sort(splits.begin(), splits.end());
    for (const auto& [left, right] : splits) merges.push_back({tokens[size_t(left)], tokens[size_t(right)]});
  }
  return merges;
}

}  // namespace

nlohmann::json gguf_tokenizer_json(const io::GgufMetadata& metadata) {
  const std::string& path = metadata.path();
  const std::string model = metadata.optional_text("tokenizer.ggml.model").value_or("");
  if (model.empty()) throw Error(path, "has no tokenizer (tokenizer.ggml.model); pass token ids instead");
  if (model != "gpt2" && model != "llama")
    throw Error(path, "tokenizer.ggml.model '" + model +
                          "' is not read yet (gpt2, byte-level BPE, and llama, SentencePiece BPE, are); pass token ids "
                          "instead");
  const std::vector<std::string> tokens = metadata.texts("tokenizer.ggml.tokens");
  if (tokens.empty()) throw Error(path, "lacks metadata key tokenizer.ggml.tokens");
  const std::vector<int64_t> types = metadata.integers("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() != tokens.size())
    throw Error(path, "tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                          std::to_string(tokens.size()) + " tokens");

  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    vocab[tokens[id]] = id;
    const int64_t type = types.empty() ? 1 : types[id];
    if (type == kControlToken || type == kUserDefinedToken)
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", type == kControlToken}});
  }
  nlohmann::json json;
  if (model == "gpt2") {
    json = {
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", metadata.texts("tokenizer.ggml.merges")},
          {"byte_fallback", false}}},
        {"added_tokens", added},
        {"normalizer", nullptr},
        {"pre_tokenizer", pre_tokenizer(metadata.optional_text("tokenizer.ggml.pre").value_or("default"), path)},
    };
  } else {
    // SentencePiece BPE as llama.cpp runs it: spaces become U+2581, one is put in front of the text (unless
    // add_space_prefix is false), no pre-tokenizer, unknown characters fall back to their <0xNN> byte pieces.
    nlohmann::json normalizers = nlohmann::json::array();
    if (metadata.optional_flag("tokenizer.ggml.add_space_prefix").value_or(true))
      normalizers.push_back({{"type", "Prepend"}, {"prepend", kSpace}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}});
    const int64_t unknown = metadata.optional_integer("tokenizer.ggml.unknown_token_id").value_or(0);
    if (unknown < 0 || unknown >= int64_t(tokens.size()))
      throw Error(path, "tokenizer.ggml.unknown_token_id is outside the vocabulary");
    json = {
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", merges_from_scores(tokens, metadata.numbers("tokenizer.ggml.scores"), types, path)},
          {"byte_fallback", true},
          {"fuse_unk", true},
          {"unk_token", tokens[size_t(unknown)]}}},
        {"added_tokens", added},
        {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
        {"pre_tokenizer", nullptr},
    };
  }

  // BOS/EOS framing as llama.cpp applies it (add_bos_token / add_eos_token), as a TemplateProcessing.
  nlohmann::json single = nlohmann::json::array();
  nlohmann::json special = nlohmann::json::object();
  auto frame_token = [&](const char* flag, const char* id_key, bool by_default) {
    if (!metadata.optional_flag(flag).value_or(by_default)) return;
    const int64_t id = metadata.integer(id_key);
    if (id < 0 || id >= int64_t(tokens.size())) throw Error(path, std::string(id_key) + " is outside the vocabulary");
    single.push_back({{"SpecialToken", {{"id", tokens[id]}, {"type_id", 0}}}});
    special[tokens[id]] = {{"id", tokens[id]}, {"ids", {id}}, {"tokens", {tokens[id]}}};
  };
  // llama.cpp adds BOS unless the file says not to for SentencePiece vocabularies, only when told for byte-level ones.
  frame_token("tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id", model == "llama");
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  frame_token("tokenizer.ggml.add_eos_token", "tokenizer.ggml.eos_token_id", false);
  json["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special}};
  return json;
}

}  // namespace nmscope::tokenizer
