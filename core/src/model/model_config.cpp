// config.json -> ModelConfig. The file comes from a stranger: every field the forward pass relies on is checked for
// presence, type and range here, so the math never sees a zero head count or a negative width.
#include "model/model_config.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/gguf_file.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/model.hpp"

namespace nmscope {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxConfigBytes = 4ull << 20;
constexpr int64_t kMaxDimension = int64_t{1} << 24;

nlohmann::json read_json(const fs::path& path) {
  const std::string subject = path.string();
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw Error(subject, "missing: a model directory needs config.json");
  if (fs::file_size(path, error) > kMaxConfigBytes) throw Error(subject, "larger than 4 MB; not a model config");
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw Error(subject, "cannot be opened");
  std::ostringstream text;
  text << stream.rdbuf();
  try {
    nlohmann::json config = nlohmann::json::parse(text.str());
    if (!config.is_object()) throw Error(subject, "not a JSON object");
    return config;
  } catch (const nlohmann::json::exception& failure) {
    throw Error(subject, std::string("not valid JSON: ") + failure.what());
  }
}

class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& json, std::string subject) : json_(json), subject_(std::move(subject)) {}

  int64_t dimension(const std::string& field) const {
    const auto found = json_.find(field);
    if (found == json_.end() || found->is_null()) throw Error(subject_, "lacks '" + field + "'");
    return dimension_value(field, *found);
  }
  int64_t dimension_or(const std::string& field, int64_t fallback) const {
    const auto found = json_.find(field);
    return found == json_.end() || found->is_null() ? fallback : dimension_value(field, *found);
  }
  double positive_or(const std::string& field, double fallback) const {
    const auto found = json_.find(field);
    if (found == json_.end() || found->is_null()) return fallback;
    if (!found->is_number() || !(found->get<double>() > 0.0))
      throw Error(subject_, "'" + field + "' must be a positive number");
    return found->get<double>();
  }
  bool flag_or(const std::string& field, bool fallback) const {
    const auto found = json_.find(field);
    if (found == json_.end() || found->is_null()) return fallback;
    if (!found->is_boolean()) throw Error(subject_, "'" + field + "' must be true or false");
    return found->get<bool>();
  }
  std::string text_or(const std::string& field, const std::string& fallback) const {
    const auto found = json_.find(field);
    if (found == json_.end() || found->is_null()) return fallback;
    if (!found->is_string()) throw Error(subject_, "'" + field + "' must be a string");
    return found->get<std::string>();
  }
  bool present(const std::string& field) const {
    const auto found = json_.find(field);
    return found != json_.end() && !found->is_null();
  }
  const std::string& subject() const { return subject_; }

 private:
  int64_t dimension_value(const std::string& field, const nlohmann::json& value) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxDimension)
      throw Error(subject_, "'" + field + "' must be an integer in 1.." + std::to_string(kMaxDimension));
    return value.get<int64_t>();
  }
  const nlohmann::json& json_;
  std::string subject_;
};

void read_decoder(const ConfigFields& fields, ModelConfig& config) {
  config.hidden = fields.dimension("hidden_size");
  config.intermediate = fields.dimension("intermediate_size");
  config.blocks = fields.dimension("num_hidden_layers");
  config.heads = fields.dimension("num_attention_heads");
  config.kv_heads = fields.dimension_or("num_key_value_heads", config.heads);
  if (config.heads % config.kv_heads != 0)
    throw Error(fields.subject(), "num_attention_heads is not a multiple of num_key_value_heads");
  if (!fields.present("head_dim") && config.hidden % config.heads != 0)
    throw Error(fields.subject(), "hidden_size is not a multiple of num_attention_heads");
  config.head_dim = fields.dimension_or("head_dim", config.hidden / config.heads);
  if (config.head_dim % 2 != 0) throw Error(fields.subject(), "head_dim must be even for rotary embeddings");
  config.vocab = fields.dimension("vocab_size");
  config.max_positions = fields.dimension_or("max_position_embeddings", kMaxDimension);
  config.norm_eps = fields.positive_or("rms_norm_eps", 1e-6);
  config.rope_theta = fields.positive_or("rope_theta", 10000.0);
  config.tie_word_embeddings = fields.flag_or("tie_word_embeddings", false);
  // Qwen2 configs carry a sliding_window that is only used when use_sliding_window is set.
  if (config.model_type != "qwen2" || fields.flag_or("use_sliding_window", false))
    config.sliding_window = fields.dimension_or("sliding_window", 0);
  const std::string activation = fields.text_or("hidden_act", "silu");
  if (activation != "silu") throw Error(fields.subject(), "hidden_act '" + activation + "' is not modelled (silu is)");
}

void read_encoder(const ConfigFields& fields, ModelConfig& config) {
  config.hidden = fields.dimension("hidden_size");
  config.intermediate = fields.dimension("intermediate_size");
  config.blocks = fields.dimension("num_hidden_layers");
  config.heads = fields.dimension("num_attention_heads");
  config.kv_heads = config.heads;
  if (config.hidden % config.heads != 0)
    throw Error(fields.subject(), "hidden_size is not a multiple of num_attention_heads");
  config.head_dim = config.hidden / config.heads;
  config.vocab = fields.dimension("vocab_size");
  config.max_positions = fields.dimension("max_position_embeddings");
  config.token_types = fields.dimension_or("type_vocab_size", 2);
  config.norm_eps = fields.positive_or("layer_norm_eps", 1e-12);
  const std::string positions = fields.text_or("position_embedding_type", "absolute");
  if (positions != "absolute")
    throw Error(fields.subject(), "position_embedding_type '" + positions + "' is not modelled (absolute is)");
  const std::string activation = fields.text_or("hidden_act", "gelu");
  if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") {
    config.gelu_tanh = true;
  } else if (activation != "gelu") {
    throw Error(fields.subject(), "hidden_act '" + activation + "' is not modelled (gelu, gelu_new are)");
  }
}

// The rotary scalings real checkpoints use: "linear" (positions divided by a factor) and "llama3" (LLaMA 3.1+:
// low frequencies slowed by the factor, high ones kept, a smooth blend between). Others (dynamic NTK, YaRN,
// LongRoPE...) change attention in ways not modelled here and are refused, never approximated.
void read_rope_scaling(const ConfigFields& scaling, ModelConfig& config) {
  // transformers writes "rope_type"; configs from before 4.43 say "type".
  const std::string type = scaling.text_or("rope_type", scaling.text_or("type", "default"));
  RopeScaling& rope = config.rope_scaling;
  rope.type = type;
  if (type == "default") return;
  if (type != "linear" && type != "llama3")
    throw Error(scaling.subject(), "rope_type '" + type + "' is not modelled (default, linear and llama3 are)");
  rope.factor = scaling.positive_or("factor", 0.0);
  if (!(rope.factor >= 1.0)) throw Error(scaling.subject(), "rope scaling needs a 'factor' >= 1");
  if (type == "llama3") {
    rope.low_freq_factor = scaling.positive_or("low_freq_factor", 1.0);
    rope.high_freq_factor = scaling.positive_or("high_freq_factor", 4.0);
    rope.original_max_positions = scaling.dimension("original_max_position_embeddings");
    if (!(rope.high_freq_factor > rope.low_freq_factor))
      throw Error(scaling.subject(), "llama3 rope scaling needs high_freq_factor > low_freq_factor");
  }
}

// transformers < 5 writes rope_theta and rope_scaling at the top level; 5.x writes rope_parameters {rope_theta,
// rope_type, factor, ...}.
void read_rope(const nlohmann::json& json, const ConfigFields& fields, ModelConfig& config) {
  if (const auto scaling = json.find("rope_scaling"); scaling != json.end() && !scaling->is_null()) {
    if (!scaling->is_object()) throw Error(fields.subject(), "'rope_scaling' must be an object");
    read_rope_scaling(ConfigFields(*scaling, fields.subject() + " rope_scaling"), config);
  }
  const auto parameters = json.find("rope_parameters");
  if (parameters == json.end() || parameters->is_null()) return;
  if (!parameters->is_object()) throw Error(fields.subject(), "'rope_parameters' must be an object");
  const ConfigFields rope(*parameters, fields.subject() + " rope_parameters");
  read_rope_scaling(rope, config);
  config.rope_theta = rope.positive_or("rope_theta", config.rope_theta);
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& json, const std::string& subject) {
  const ConfigFields fields(json, subject);
  ModelConfig config;
  config.model_type = fields.text_or("model_type", "");
  if (config.model_type == "llama" || config.model_type == "mistral" || config.model_type == "qwen2") {
    config.family = ModelFamily::Decoder;
    read_decoder(fields, config);
    read_rope(json, fields, config);
  } else if (config.model_type == "bert") {
    config.family = ModelFamily::Encoder;
    read_encoder(fields, config);
  }
  return config;
}

ModelConfig read_model_config(const std::string& directory) {
  const fs::path path = fs::path(directory) / "config.json";
  return parse_model_config(read_json(path), path.string());
}

bool is_model_directory(const std::string& path) {
  std::error_code error;
  return fs::is_directory(path, error) && fs::is_regular_file(fs::path(path) / "config.json", error);
}

bool is_gguf_file(const std::string& path) {
  std::error_code error;
  return fs::path(path).extension() == ".gguf" && fs::is_regular_file(path, error);
}

// A GGUF file is a model when its metadata names an architecture and that architecture's block count: a tensor
// container written with gguf-py's writer alone (no llama.cpp converter) stays a weight file. An unreadable file is not
// a model here; opening it as a source reports why.
bool is_model_path(const std::string& path) {
  if (is_model_directory(path)) return true;
  if (!is_gguf_file(path)) return false;
  try {
    const io::GgufFile file = io::parse_gguf(MappedFile::open(path), true);
    const auto architecture = file.metadata.optional_text("general.architecture");
    return architecture && file.metadata.contains(*architecture + ".block_count");
  } catch (const Error&) {
    return false;
  }
}

}  // namespace nmscope
