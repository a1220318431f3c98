// tokenizer.json and the text it encodes: the fuzzed bytes up to the first NUL are the tokenizer.json of a model
// directory, the bytes after it (when there is a NUL) the text. Tokenizer::open reads every component (normalizers,
// pre-tokenizers with their regexes, the BPE / Unigram / WordPiece model, added tokens, post-processor) and encode runs
// them; a refusal must be nmscope::Error, and every id must come from the file (no id invented by a bad offset).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "fuzz_support.hpp"
#include "nmscope/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static const fuzz::ScratchDirectory directory("tokenizer");
  const uint8_t* separator = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t json_size = separator ? size_t(separator - data) : size;
  directory.write("tokenizer.json", data, json_size);
  const std::string text = separator ? std::string(reinterpret_cast<const char*>(separator + 1), size - json_size - 1)
                                     : std::string("Hello, world! <s> caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC 42");
  try {
    const auto tokenizer = Tokenizer::open(directory.path());
    for (const std::string& input : {text, std::string(), std::string(" ")}) tokenizer->encode(input);
  } catch (const Error&) {
  }
  return 0;
}
