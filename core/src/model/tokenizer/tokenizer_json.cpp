// Tokenizer::open: reads tokenizer.json and builds the tokenizer its "model" names. Everything that reads the JSON
// runs here, so a malformed file is one Error naming it, never an exception of the JSON library.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/gguf_file.hpp"
#include "model/tokenizer/gguf_tokenizer.hpp"
#include "model/tokenizer/pipeline_tokenizer.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/model.hpp"
#include "nmscope/tokenizer.hpp"

namespace nmscope {

std::vector<int64_t> TokenEncoding::unpadded() const {
  std::vector<int64_t> kept;
  for (size_t index = 0; index < ids.size(); ++index)
    if (index >= attention_mask.size() || attention_mask[index] != 0) kept.push_back(ids[index]);
  return kept;
}

#ifdef NMSCOPE_HAVE_ICU

namespace {
constexpr std::uintmax_t kMaxTokenizerBytes = 256ull << 20;
}  // namespace

bool text_input_available() { return true; }

std::unique_ptr<Tokenizer> Tokenizer::open(const std::string& directory) {
  if (is_gguf_file(directory)) {
    const io::GgufFile file = io::parse_gguf(MappedFile::open(directory), true);
    try {
      return tokenizer::make_pipeline_tokenizer(tokenizer::gguf_tokenizer_json(file.metadata), directory);
    } catch (const nlohmann::json::exception& failure) {
      throw Error(directory, std::string("its tokenizer metadata cannot be used: ") + failure.what());
    }
  }
  const std::string path = (std::filesystem::path(directory) / "tokenizer.json").string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) throw Error(path, "missing: text input needs tokenizer.json");
  if (std::filesystem::file_size(path, error) > kMaxTokenizerBytes) throw Error(path, "larger than 256 MB");
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  try {
    const nlohmann::json json = nlohmann::json::parse(text.str());
    if (!json.is_object() || !json.contains("model") || !json["model"].is_object())
      throw Error(path, "not a tokenizer.json: no \"model\" object");
    const std::string kind = json["model"].value("type", std::string("?"));
    if (kind == "WordPiece" || kind == "BPE" || kind == "Unigram")
      return tokenizer::make_pipeline_tokenizer(json, path);
    throw Error(path, "tokenizer model " + kind +
                          " is not supported (WordPiece, BPE and Unigram are); pass token ids "
                          "instead");
  } catch (const nlohmann::json::exception& failure) {
    throw Error(path, std::string("not a tokenizer.json: ") + failure.what());
  }
}

#else

bool text_input_available() { return false; }

std::unique_ptr<Tokenizer> Tokenizer::open(const std::string& directory) {
  throw Error(directory + "/tokenizer.json", "this build has no Unicode support (ICU); pass token ids instead");
}

#endif

}  // namespace nmscope
