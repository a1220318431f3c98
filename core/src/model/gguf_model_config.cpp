#include "model/gguf_model_config.hpp"

#include <nlohmann/json.hpp>

#include "io/gguf_model_source.hpp"
#include "model/model_config.hpp"
#include "nmscope/error.hpp"

namespace nmscope {

namespace {

// llama.cpp's pooling types (enum llama_pooling_type): the encoder forward pass here mean-pools, as
// sentence-transformers' MiniLM and most BERT sentence encoders do.
constexpr int64_t kMeanPooling = 1;

// Copies {architecture}.key into config[field] when the file has it.
class MetadataCopier {
 public:
  MetadataCopier(const io::GgufMetadata& metadata, std::string prefix, nlohmann::json& config)
      : metadata_(metadata), prefix_(std::move(prefix)), config_(config) {}

  void integer(const std::string& key, const char* field) {
    if (auto value = metadata_.optional_integer(prefix_ + key)) config_[field] = *value;
  }
  void number(const std::string& key, const char* field) {
    if (auto value = metadata_.optional_number(prefix_ + key)) config_[field] = *value;
  }
  void required_integer(const std::string& key, const char* field) {
    config_[field] = metadata_.integer(prefix_ + key);
  }
  // What every architecture's file has: width, feed-forward width, blocks, heads.
  void dimensions() {
    required_integer("embedding_length", "hidden_size");
    required_integer("feed_forward_length", "intermediate_size");
    required_integer("block_count", "num_hidden_layers");
    required_integer("attention.head_count", "num_attention_heads");
  }

 private:
  const io::GgufMetadata& metadata_;
  std::string prefix_;
  nlohmann::json& config_;
};

// The vocabulary: the key when written, else the tokenizer's size, else the embedding table's rows.
void copy_vocabulary_size(const io::GgufMetadata& metadata, const std::string& prefix, const WeightSource& source,
                          const char* embedding, nlohmann::json& config) {
  if (auto vocab = metadata.optional_integer(prefix + "vocab_size")) {
    config["vocab_size"] = *vocab;
  } else if (const auto tokens = metadata.texts("tokenizer.ggml.tokens"); !tokens.empty()) {
    config["vocab_size"] = tokens.size();
  } else if (const TensorInfo* table = source.find(embedding)) {
    config["vocab_size"] = table->rows();
  }
}

ModelConfig decoder_config(const io::GgufMetadata& metadata, const std::string& architecture,
                           const WeightSource& source, nlohmann::json config) {
  const std::string& path = metadata.path();
  const std::string prefix = architecture + ".";
  MetadataCopier copy(metadata, prefix, config);
  copy.dimensions();
  copy.integer("attention.head_count_kv", "num_key_value_heads");
  copy.integer("attention.key_length", "head_dim");
  copy.integer("context_length", "max_position_embeddings");
  copy.number("attention.layer_norm_rms_epsilon", "rms_norm_eps");
  copy.number("rope.freq_base", "rope_theta");
  copy.integer("attention.sliding_window", "sliding_window");
  if (architecture == "qwen2" && config.contains("sliding_window")) config["use_sliding_window"] = true;
  copy_vocabulary_size(metadata, prefix, source, "model.embed_tokens.weight", config);
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

// BERT as llama.cpp's converter writes it. The activation is not in the metadata: llama.cpp runs every "bert" file
// with GELU, as BERT's config.json says ("gelu").
ModelConfig encoder_config(const io::GgufMetadata& metadata, const WeightSource& source, nlohmann::json config) {
  const std::string& path = metadata.path();
  const std::string prefix = "bert.";
  MetadataCopier copy(metadata, prefix, config);
  copy.dimensions();
  copy.number("attention.layer_norm_epsilon", "layer_norm_eps");
  // The position table's rows are the positions the model has (context_length is written from the same field).
  if (const TensorInfo* positions = source.find("embeddings.position_embeddings.weight"))
    config["max_position_embeddings"] = positions->rows();
  else
    copy.required_integer("context_length", "max_position_embeddings");
  if (const TensorInfo* types = source.find("embeddings.token_type_embeddings.weight"))
    config["type_vocab_size"] = types->rows();
  else if (auto count = metadata.optional_integer("tokenizer.ggml.token_type_count"))
    config["type_vocab_size"] = *count;
  copy_vocabulary_size(metadata, prefix, source, "embeddings.word_embeddings.weight", config);

  if (metadata.optional_flag(prefix + "attention.causal").value_or(false))
    throw Error(path, "bert.attention.causal is set: a causal BERT is not modelled (the encoder attends both ways)");
  // Absent: mean, as a model directory without sentence-transformers' pooling config is run here.
  if (const auto pooling = metadata.optional_integer(prefix + "pooling_type"); pooling && *pooling != kMeanPooling)
    throw Error(path, "bert.pooling_type " + std::to_string(*pooling) +
                          " is not modelled (1, mean pooling, is: the embeddings would differ from the model's)");
  return parse_model_config(config, path + " (GGUF metadata)");
}

}  // namespace

ModelConfig gguf_model_config(const io::GgufMetadata& metadata, const WeightSource& source) {
  const std::string architecture = metadata.text("general.architecture");
  nlohmann::json config = {{"model_type", architecture}};
  if (!io::gguf_architecture_is_mapped(architecture)) return parse_model_config(config, metadata.path());
  if (architecture == "bert") return encoder_config(metadata, source, std::move(config));
  return decoder_config(metadata, architecture, source, std::move(config));
}

}  // namespace nmscope
