// The pre-tokenizer of each llama.cpp `pre` rule is the one the original tokenizer.json has (llama.cpp's
// llama-vocab.cpp lists the same regexes per rule): GPT-2's ByteLevel regex; SmolLM's digits split before it;
// LLaMA 3's and Qwen2's Split regexes before a ByteLevel without its own.
#include "model/tokenizer/gguf_tokenizer.hpp"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

// llama.cpp's token types (llama_token_type): 3 = control (<|im_start|>, <s>), 4 = user-defined; both are matched in
// the text before the model runs, as tokenizer.json's added tokens are.
constexpr int64_t kNormalToken = 1;
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
    if (!types.empty() && types[id] != kNormalToken) continue;  // only normal pieces are merge results
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

// llama.cpp's converter writes a WordPiece vocabulary in "phantom space" spelling (BertModel.set_vocab): a piece that
// starts a word gains U+2581, a continuation loses its "##", control tokens stay as they are (older converters kept
// every "[...]" token, whatever its type). Undone here, so the WordPiece model sees the spelling of BERT's vocab.txt.
std::string wordpiece_spelling(const std::string& token, int64_t type) {
  const std::string_view space = kSpace;
  if (token.compare(0, space.size(), space) == 0) return token.substr(space.size());
  if (type == kControlToken || (token.size() >= 2 && token.front() == '[' && token.back() == ']')) return token;
  return "##" + token;
}

// The id a key names, checked against the vocabulary; nullopt when the file lacks the key.
std::optional<int64_t> token_id(const io::GgufMetadata& metadata, const std::string& key, std::size_t vocabulary) {
  const auto id = metadata.optional_integer(key);
  if (id && (*id < 0 || *id >= int64_t(vocabulary))) throw Error(metadata.path(), key + " is outside the vocabulary");
  return id;
}

}  // namespace

nlohmann::json gguf_tokenizer_json(const io::GgufMetadata& metadata) {
  const std::string& path = metadata.path();
  const std::string model = metadata.optional_text("tokenizer.ggml.model").value_or("");
  if (model.empty()) throw Error(path, "has no tokenizer (tokenizer.ggml.model); pass token ids instead");
  if (model != "gpt2" && model != "llama" && model != "bert")
    throw Error(path, "tokenizer.ggml.model '" + model +
                          "' is not read yet (gpt2, byte-level BPE; llama, SentencePiece BPE; bert, WordPiece); pass "
                          "token ids instead");
  std::vector<std::string> tokens = metadata.texts("tokenizer.ggml.tokens");
  if (tokens.empty()) throw Error(path, "lacks metadata key tokenizer.ggml.tokens");
  const std::vector<int64_t> types = metadata.integers("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() != tokens.size())
    throw Error(path, "tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                          std::to_string(tokens.size()) + " tokens");
  auto type_of = [&](std::size_t id) { return types.empty() ? kNormalToken : types[id]; };
  if (model == "bert")
    for (std::size_t id = 0; id < tokens.size(); ++id) tokens[id] = wordpiece_spelling(tokens[id], type_of(id));

  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    vocab[tokens[id]] = id;
    const int64_t type = type_of(id);
    if (type == kControlToken || type == kUserDefinedToken)
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", type == kControlToken}});
  }
  const std::optional<int64_t> unknown = token_id(metadata, "tokenizer.ggml.unknown_token_id", tokens.size());
  nlohmann::json json;
  if (model == "gpt2") {
    json = {
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", metadata.texts("tokenizer.ggml.merges")},
          {"byte_fallback", false}}},
        {"normalizer", nullptr},
        {"pre_tokenizer", pre_tokenizer(metadata.optional_text("tokenizer.ggml.pre").value_or("default"), path)},
    };
  } else if (model == "llama") {
    // SentencePiece BPE as llama.cpp runs it: spaces become U+2581, one is put in front of the text (unless
    // add_space_prefix is false), no pre-tokenizer, unknown characters fall back to their <0xNN> byte pieces.
    nlohmann::json normalizers = nlohmann::json::array();
    if (metadata.optional_flag("tokenizer.ggml.add_space_prefix").value_or(true))
      normalizers.push_back({{"type", "Prepend"}, {"prepend", kSpace}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}});
    json = {
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", merges_from_scores(tokens, metadata.numbers("tokenizer.ggml.scores"), types, path)},
          {"byte_fallback", true},
          {"fuse_unk", true},
          {"unk_token", tokens[size_t(unknown.value_or(0))]}}},
        {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
        {"pre_tokenizer", nullptr},
    };
  } else {
    // WordPiece with BERT's uncased text handling, as the model's own tokenizer.json has it and llama.cpp's WPM
    // tokenizer applies to every "bert" file: lowercase, accents stripped, punctuation and CJK characters split.
    // (llama.cpp keeps combining accents after its NFD; the model was trained without them.)
    const auto unknown_piece = vocab.find("[UNK]");
    if (!unknown && unknown_piece == vocab.end())
      throw Error(path, "a WordPiece vocabulary needs an unknown token (tokenizer.ggml.unknown_token_id or [UNK])");
    json = {
        {"model",
         {{"type", "WordPiece"},
          {"vocab", vocab},
          {"unk_token", unknown ? tokens[size_t(*unknown)] : std::string("[UNK]")},
          {"continuing_subword_prefix", "##"},
          {"max_input_chars_per_word", 100}}},
        {"normalizer",
         {{"type", "BertNormalizer"},
          {"clean_text", true},
          {"handle_chinese_chars", true},
          {"strip_accents", nullptr},
          {"lowercase", true}}},
        {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
    };
  }
  json["added_tokens"] = added;

  // The framing llama.cpp applies, as a TemplateProcessing: BOS unless add_bos_token says not to for SentencePiece
  // and WordPiece vocabularies, only when it says so for byte-level ones; EOS when add_eos_token says so. WordPiece
  // frames [CLS] ... [SEP] (the cls and separator ids, else bos and eos), the [SEP] unless both add_eos_token and
  // add_sep_token are false (gguf-py writes [SEP] as eos with add_eos_token, older files as add_sep_token).
  const bool wordpiece = model == "bert";
  auto flag = [&](const char* key) { return metadata.optional_flag(key); };
  const bool leading = flag("tokenizer.ggml.add_bos_token").value_or(model != "gpt2");
  const auto add_eos = flag("tokenizer.ggml.add_eos_token"), add_sep = flag("tokenizer.ggml.add_sep_token");
  const bool trailing = wordpiece ? (!add_eos && !add_sep) || add_eos.value_or(false) || add_sep.value_or(false)
                                  : add_eos.value_or(false);
  nlohmann::json single = nlohmann::json::array();
  nlohmann::json special = nlohmann::json::object();
  auto frame_token = [&](std::initializer_list<const char*> id_keys) {
    std::optional<int64_t> id;
    for (const char* key : id_keys)
      if (!id) id = token_id(metadata, key, tokens.size());
    if (!id) throw Error(path, "frames its text with a token it does not name (" + std::string(*id_keys.begin()) + ")");
    const std::string& piece = tokens[size_t(*id)];
    single.push_back({{"SpecialToken", {{"id", piece}, {"type_id", 0}}}});
    special[piece] = {{"id", piece}, {"ids", {*id}}, {"tokens", {piece}}};
  };
  if (leading && wordpiece) frame_token({"tokenizer.ggml.cls_token_id", "tokenizer.ggml.bos_token_id"});
  if (leading && !wordpiece) frame_token({"tokenizer.ggml.bos_token_id"});
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (trailing && wordpiece) frame_token({"tokenizer.ggml.seperator_token_id", "tokenizer.ggml.eos_token_id"});
  if (trailing && !wordpiece) frame_token({"tokenizer.ggml.eos_token_id"});
  json["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special}};
  return json;
}

}  // namespace nmscope::tokenizer
