// Post-processors of Hugging Face `tokenizers` (processors/{template,bert,roberta,byte_level,sequence}.rs), reduced to
// what they add around a single sequence.
#include "model/tokenizer/post_processor.hpp"

#include "model/tokenizer/json_fields.hpp"
#include "nmscope/error.hpp"

namespace nmscope::tokenizer {

namespace {

void read_template(const nlohmann::json& post, const std::string& path,
                   const std::function<int64_t(const std::string&)>& id_of, SpecialTokenFrame& frame) {
  const nlohmann::json& special_tokens = post.contains("special_tokens") ? post["special_tokens"] : nlohmann::json();
  bool after = false;
  for (const auto& item : post.at("single")) {
    if (item.contains("Sequence")) {
      after = true;
      continue;
    }
    const std::string name = item.at("SpecialToken").at("id").get<std::string>();
    std::vector<int64_t>& side = after ? frame.after : frame.before;
    if (special_tokens.is_object() && special_tokens.contains(name)) {
      for (const auto& id : special_tokens[name].at("ids"))
        side.push_back(json_token_id(id, path, "post_processor id"));
      continue;
    }
    const int64_t id = id_of(name);
    if (id < 0) throw Error(path, "post_processor names token '" + name + "', which is not in the vocabulary");
    side.push_back(id);
  }
}

// [token, id] pairs of BertProcessing / RobertaProcessing.
int64_t pair_id(const nlohmann::json& pair, const std::string& path) {
  if (!pair.is_array() || pair.size() != 2)
    throw Error(path, "post_processor token " + pair.dump() + " is not [token, id]");
  return json_token_id(pair[1], path, "post_processor id");
}

void read_into(const nlohmann::json& post, const std::string& path,
               const std::function<int64_t(const std::string&)>& id_of, SpecialTokenFrame& frame) {
  if (post.is_null()) return;
  const std::string type = post.value("type", std::string("?"));
  if (type == "TemplateProcessing") {
    read_template(post, path, id_of, frame);
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    frame.before.push_back(pair_id(post.at("cls"), path));
    frame.after.push_back(pair_id(post.at("sep"), path));
  } else if (type == "ByteLevel") {
    // Adjusts offsets only.
  } else if (type == "Sequence") {
    // Each step wraps what the steps before it produced.
    for (const auto& step : post.at("processors")) {
      SpecialTokenFrame wrap;
      read_into(step, path, id_of, wrap);
      frame.before.insert(frame.before.begin(), wrap.before.begin(), wrap.before.end());
      frame.after.insert(frame.after.end(), wrap.after.begin(), wrap.after.end());
    }
  } else {
    throw Error(path, "post_processor " + type + " is not supported");
  }
}

}  // namespace

SpecialTokenFrame read_post_processor(const nlohmann::json& post, const std::string& path,
                                      const std::function<int64_t(const std::string&)>& id_of) {
  SpecialTokenFrame frame;
  read_into(post, path, id_of, frame);
  return frame;
}

}  // namespace nmscope::tokenizer
