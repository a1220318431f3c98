#include "model/gguf_model_config.hpp"

#include <nlohmann/json.hpp>

#include "io/gguf_model_source.hpp"
#include "model/model_config.hpp"
#include "nmscope/error.hpp"

namespace nmscope {

ModelConfig gguf_model_config(const io::GgufMetadata& metadata, const WeightSource& source) {
  const std::string& path = metadata.path();
  const std::string architecture = metadata.text("general.architecture");
  nlohmann::json config = {{"model_type", architecture}};
  if (!io::gguf_architecture_is_mapped(architecture)) return parse_model_config(config, path);

  const std::string prefix = architecture + ".";
  auto copy_integer = [&](const std::string& key, const char* field) {
    if (auto value = metadata.optional_integer(prefix + key)) config[field] = *value;
  };
  auto copy_number = [&](const std::string& key, const char* field) {
    if (auto value = metadata.optional_number(prefix + key)) config[field] = *value;
  };
  config["hidden_size"] = metadata.integer(prefix + "embedding_length");
  config["intermediate_size"] = metadata.integer(prefix + "feed_forward_length");
  config["num_hidden_layers"] = metadata.integer(prefix + "block_count");
  config["num_attention_heads"] = metadata.integer(prefix + "attention.head_count");
  copy_integer("attention.head_count_kv", "num_key_value_heads");
  copy_integer("attention.key_length", "head_dim");
  copy_integer("context_length", "max_position_embeddings");
  copy_number("attention.layer_norm_rms_epsilon", "rms_norm_eps");
  copy_number("rope.freq_base", "rope_theta");
  copy_integer("attention.sliding_window", "sliding_window");
  if (architecture == "qwen2" && config.contains("sliding_window")) config["use_sliding_window"] = true;

  // The vocabulary: the key when written, else the tokenizer's size, else the embedding table's rows.
  if (auto vocab = metadata.optional_integer(prefix + "vocab_size")) {
    config["vocab_size"] = *vocab;
  } else if (const auto tokens = metadata.texts("tokenizer.ggml.tokens"); !tokens.empty()) {
    config["vocab_size"] = tokens.size();
  } else if (const TensorInfo* embedding = source.find("model.embed_tokens.weight")) {
    config["vocab_size"] = embedding->rows();
  }
  config["tie_word_embeddings"] = source.find("lm_head.weight") == nullptr;

  const std::string scaling = metadata.optional_text(prefix + "rope.scaling.type").value_or("none");
  if (scaling == "linear") {
    config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", metadata.number(prefix + "rope.scaling.factor")}};
  } else if (scaling != "none") {
    throw Error(path, "rope scaling '" + scaling + "' is not modelled (none and linear are)");
  }
  if (source.find("rope_freqs.weight"))
    throw Error(path, "rope_freqs.weight (Llama 3.1's per-frequency rope factors) is not modelled");

  const ModelConfig parsed = parse_model_config(config, path + " (GGUF metadata)");
  if (auto rotary = metadata.optional_integer(prefix + "rope.dimension_count"); rotary && *rotary != parsed.head_dim)
    throw Error(path, "rotary embedding over " + std::to_string(*rotary) + " of " + std::to_string(parsed.head_dim) +
                          " head dimensions is not modelled (the whole head is)");
  return parsed;
}

}  // namespace nmscope
