#include "model/tokenizer/truncation_padding.hpp"

#include <algorithm>

#include "model/tokenizer/json_fields.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

bool left_direction(const nlohmann::json& object, const std::string& path, const char* what) {
  const std::string direction = object.value("direction", std::string("Right"));
  if (direction != "Right" && direction != "Left")
    throw Error(path, std::string(what) + " direction '" + direction + "' is not Right or Left");
  return direction == "Left";
}

}  // namespace

Truncation read_truncation(const nlohmann::json& truncation, const std::string& path) {
  Truncation result;
  if (truncation.is_null()) return result;
  if (!truncation.is_object()) throw Error(path, "\"truncation\" is not an object");
  result.max_length = json_count(truncation, "max_length", -1, path);
  if (result.max_length < 0) throw Error(path, "\"truncation\" has no max_length");
  result.from_left = left_direction(truncation, path, "truncation");
  const std::string strategy = truncation.value("strategy", std::string("LongestFirst"));
  // One sequence: LongestFirst and OnlyFirst cut it alike; OnlySecond has no second sequence to cut.
  if (strategy != "LongestFirst" && strategy != "OnlyFirst")
    throw Error(path, "truncation strategy " + strategy + " is not supported for one sequence");
  return result;
}

Padding read_padding(const nlohmann::json& padding, const std::string& path) {
  Padding result;
  if (padding.is_null()) return result;
  if (!padding.is_object()) throw Error(path, "\"padding\" is not an object");
  result.enabled = true;
  const nlohmann::json strategy = padding.value("strategy", nlohmann::json("BatchLongest"));
  if (strategy.is_object() && strategy.contains("Fixed")) {
    result.fixed_length = json_count(strategy, "Fixed", -1, path);
  } else if (!(strategy.is_string() && strategy.get<std::string>() == "BatchLongest")) {
    throw Error(path, "padding strategy " + strategy.dump() + " is not Fixed or BatchLongest");
  }
  result.multiple = json_count(padding, "pad_to_multiple_of", 0, path);
  result.pad_id = padding.contains("pad_id") ? json_token_id(padding["pad_id"], path, "pad_id") : 0;
  result.on_left = left_direction(padding, path, "padding");
  return result;
}

void truncate(std::vector<int64_t>& content, int64_t special_tokens, const Truncation& truncation) {
  if (truncation.max_length < 0) return;
  const int64_t room = std::max<int64_t>(0, truncation.max_length - special_tokens);
  if (int64_t(content.size()) <= room) return;
  if (truncation.from_left)
    content.erase(content.begin(), content.end() - room);
  else
    content.resize(size_t(room));
}

void pad(std::vector<int64_t>& ids, std::vector<int8_t>& mask, const Padding& padding) {
  if (!padding.enabled) return;
  int64_t target = padding.fixed_length >= 0 ? padding.fixed_length : int64_t(ids.size());
  if (padding.multiple > 0 && target % padding.multiple != 0) target += padding.multiple - target % padding.multiple;
  if (int64_t(ids.size()) >= target) return;
  const size_t pads = size_t(target) - ids.size();
  if (padding.on_left) {
    ids.insert(ids.begin(), pads, padding.pad_id);
    mask.insert(mask.begin(), pads, int8_t{0});
  } else {
    ids.insert(ids.end(), pads, padding.pad_id);
    mask.insert(mask.end(), pads, int8_t{0});
  }
}

}  // namespace nmscope::tokenizer
