// Typed reads of GGUF metadata: a model file names its architecture's fields with their own integer and float widths
// (u32 block counts, f32 epsilons, i32 token ids), so every read accepts any width and checks the range instead.
#include <cmath>
#include <limits>

#include "io/gguf_file.hpp"
#include "nmscope/error.hpp"

namespace nmscope::io {

namespace {

std::optional<int64_t> as_integer(const GgufValue& value) {
  if (value.kind == GgufValue::Kind::Integer) return value.integer;
  if (value.kind == GgufValue::Kind::Unsigned &&
      value.unsigned_integer <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(value.unsigned_integer);
  return std::nullopt;
}

std::optional<double> as_number(const GgufValue& value) {
  if (value.kind == GgufValue::Kind::Float) return value.number;
  if (value.kind == GgufValue::Kind::Unsigned) return static_cast<double>(value.unsigned_integer);
  if (value.kind == GgufValue::Kind::Integer) return static_cast<double>(value.integer);
  return std::nullopt;
}

}  // namespace

const GgufValue* GgufMetadata::find(const std::string& key) const {
  const auto found = values_.find(key);
  return found == values_.end() ? nullptr : &found->second;
}

void GgufMetadata::wrong_kind(const std::string& key, const char* expected) const {
  throw Error(path_, "metadata key " + key + " is not " + expected);
}

std::optional<std::string> GgufMetadata::optional_text(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->kind != GgufValue::Kind::String) wrong_kind(key, "a string");
  return value->text;
}

std::string GgufMetadata::text(const std::string& key) const {
  if (auto value = optional_text(key)) return *value;
  throw Error(path_, "lacks metadata key " + key);
}

std::optional<int64_t> GgufMetadata::optional_integer(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (auto number = as_integer(*value)) return number;
  wrong_kind(key, "an integer");
}

int64_t GgufMetadata::integer(const std::string& key) const {
  if (auto value = optional_integer(key)) return *value;
  throw Error(path_, "lacks metadata key " + key);
}

std::optional<double> GgufMetadata::optional_number(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (auto number = as_number(*value); number && std::isfinite(*number)) return number;
  wrong_kind(key, "a finite number");
}

double GgufMetadata::number(const std::string& key) const {
  if (auto value = optional_number(key)) return *value;
  throw Error(path_, "lacks metadata key " + key);
}

std::optional<bool> GgufMetadata::optional_flag(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->kind != GgufValue::Kind::Bool) wrong_kind(key, "a bool");
  return value->flag;
}

// An array value as a vector, each item read by `convert` (nullopt: the item is of another kind); empty when absent.
template <typename T, typename Convert>
std::vector<T> GgufMetadata::array_of(const std::string& key, const char* expected, Convert convert) const {
  std::vector<T> out;
  const GgufValue* value = find(key);
  if (!value) return out;
  if (value->kind != GgufValue::Kind::Array) wrong_kind(key, expected);
  out.reserve(value->items.size());
  for (const auto& item : value->items) {
    std::optional<T> converted = convert(item);
    if (!converted) wrong_kind(key, expected);
    out.push_back(std::move(*converted));
  }
  return out;
}

std::vector<std::string> GgufMetadata::texts(const std::string& key) const {
  return array_of<std::string>(key, "an array of strings", [](const GgufValue& item) -> std::optional<std::string> {
    if (item.kind != GgufValue::Kind::String) return std::nullopt;
    return item.text;
  });
}

std::vector<double> GgufMetadata::numbers(const std::string& key) const {
  return array_of<double>(key, "an array of numbers", as_number);
}

std::vector<int64_t> GgufMetadata::integers(const std::string& key) const {
  return array_of<int64_t>(key, "an array of integers", as_integer);
}

}  // namespace nmscope::io
