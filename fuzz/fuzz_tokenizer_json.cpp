// tokenizer.json and the text it encodes: the fuzzed bytes up to the first NUL are the tokenizer.json of a model
// directory, the bytes after it (when there is a NUL) the text. Tokenizer::open reads every component (normalizers,
// pre-tokenizers with their regexes, the BPE / Unigram / WordPiece model, added tokens, post-processor) and encode runs
// them; a refusal must be nmscope::Error, and every id must come from the file (no id invented by a bad offset).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "fuzz_support.hpp"
#include "nmscope/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

class TokenizerDirectory {
 public:
  TokenizerDirectory() {
    const char* shm = "/dev/shm";
    std::string pattern = (access(shm, W_OK) == 0 ? std::string(shm) : fs::temp_directory_path().string()) +
                          "/nmscope-fuzz-tokenizer-XXXXXX";
    nmscope::fuzz::check(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TokenizerDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

  void write(const uint8_t* data, size_t size) {
    const std::string file = path_ + "/tokenizer.json";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    nmscope::fuzz::check(fd >= 0);
    for (size_t written = 0; written < size;) {
      const ssize_t step = ::write(fd, data + written, size - written);
      nmscope::fuzz::check(step > 0);
      written += static_cast<size_t>(step);
    }
    ::close(fd);
  }

 private:
  std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static TokenizerDirectory directory;
  const uint8_t* separator = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t json_size = separator ? size_t(separator - data) : size;
  directory.write(data, json_size);
  const std::string text = separator ? std::string(reinterpret_cast<const char*>(separator + 1), size - json_size - 1)
                                     : std::string("Hello, world! <s> caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC 42");
  try {
    const auto tokenizer = Tokenizer::open(directory.path());
    for (const std::string& input : {text, std::string(), std::string(" ")}) tokenizer->encode(input);
  } catch (const Error&) {
  }
  return 0;
}
