#pragma once
// A .gguf file parsed once: its metadata key/values (what a llama.cpp model file says about the architecture and
// the tokenizer) and its tensors. read_gguf() (readers.hpp) keeps only the tensors; the model loader needs both.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nmscope/weight_source.hpp"

namespace nmscope::io {

// One metadata value. GGUF's integer types widen to Integer (signed) or Unsigned, F32/F64 to Float.
struct GgufValue {
  enum class Kind { Integer, Unsigned, Float, Bool, String, Array };
  Kind kind = Kind::Integer;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double number = 0;
  bool flag = false;
  std::string text;
  std::vector<GgufValue> items;
  bool kept = true;  // false for an array too long to keep (see gguf_file.cpp): the key reads as absent
};

class GgufMetadata {
 public:
  GgufMetadata() = default;
  GgufMetadata(std::string path, std::map<std::string, GgufValue> values)
      : path_(std::move(path)), values_(std::move(values)) {}

  const GgufValue* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  // Typed reads; each throws Error(path, "metadata key K ...") when the key is absent (without a fallback) or holds
  // another kind of value. Integers are range-checked against int64.
  std::string text(const std::string& key) const;
  std::optional<std::string> optional_text(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  std::optional<int64_t> optional_integer(const std::string& key) const;
  double number(const std::string& key) const;  // a Float, or an integer widened
  std::optional<double> optional_number(const std::string& key) const;
  std::optional<bool> optional_flag(const std::string& key) const;
  // An array of strings / numbers; empty when absent.
  std::vector<std::string> texts(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  std::vector<int64_t> integers(const std::string& key) const;
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void wrong_kind(const std::string& key, const char* expected) const;
  template <typename T, typename Convert>
  std::vector<T> array_of(const std::string& key, const char* expected, Convert convert) const;
  std::string path_;
  std::map<std::string, GgufValue> values_;
};

struct GgufFile {
  GgufMetadata metadata;
  std::vector<RawTensor> tensors;
};

// Parses the header, the metadata (values kept only when `keep_metadata`) and the tensor infos, checking every count
// and offset against the bytes left. Throws Error(path, reason).
GgufFile parse_gguf(std::shared_ptr<const MappedFile> file, bool keep_metadata);

}  // namespace nmscope::io
