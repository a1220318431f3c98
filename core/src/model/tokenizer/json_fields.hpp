#pragma once
// Integer fields of tokenizer.json read with a check: nlohmann's get<int64_t>() on 1e300 or 3.5 converts a double out
// of range (undefined behaviour) or truncates; `tokenizers` reads ids as u32 and sizes as usize and refuses the rest.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

// A token id: an integer in [0, 2^32), as `tokenizers` stores ids (u32).
inline int64_t json_token_id(const nlohmann::json& value, const std::string& path, const std::string& what) {
  if (value.is_number_unsigned() && value.get<uint64_t>() <= std::numeric_limits<uint32_t>::max())
    return int64_t(value.get<uint64_t>());
  if (value.is_number_integer() && value.get<int64_t>() >= 0 &&
      value.get<int64_t>() <= int64_t(std::numeric_limits<uint32_t>::max()))
    return value.get<int64_t>();
  throw Error(path, what + " " + value.dump() + " is not a token id (an integer from 0 to 2^32 - 1)");
}

// A non-negative count (usize in `tokenizers`); `fallback` when the field is absent or null.
inline int64_t json_count(const nlohmann::json& object, const char* key, int64_t fallback, const std::string& path) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  const nlohmann::json& value = object[key];
  if (value.is_number_unsigned() && value.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()))
    return int64_t(value.get<uint64_t>());
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return value.get<int64_t>();
  throw Error(path, std::string(key) + " " + value.dump() + " is not a non-negative integer");
}

}  // namespace nmscope::tokenizer
