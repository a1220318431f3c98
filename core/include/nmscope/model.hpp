#pragma once
// A Hugging Face model directory as a model, not a bag of tensors: config.json gives the architecture, and every tensor
// gets its role (attention q/k/v/o, MLP gate/up/down, embeddings, head, norms). Families with a reference forward pass:
// LLaMA-style decoders (llama, mistral, qwen2) and BERT-style encoders (bert). Any other architecture opens too, with
// every tensor listed under role "other" and a note saying why.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nmscope/matrix.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace model_layout {
struct Layout;
}

enum class ModelFamily { Decoder, Encoder, Unsupported };

enum class LayerRole {
  Query,
  Key,
  Value,
  AttentionOutput,
  Gate,
  Up,
  Down,  // the linear layers that get compressed
  Embedding,
  PositionEmbedding,
  TokenTypeEmbedding,
  Head,
  Pooler,
  Norm,
  Bias,
  Other
};

std::string role_name(LayerRole role);  // "attn.q", "mlp.down", "embedding", ...
std::string family_name(ModelFamily family);

// How rotary position embeddings are stretched for long contexts (config.json's rope_scaling / rope_parameters).
struct RopeScaling {
  std::string type = "default";  // "default", "linear" or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;         // llama3
  double high_freq_factor = 4.0;        // llama3
  int64_t original_max_positions = 0;   // llama3: the context the model was trained at before scaling
};

struct ModelConfig {
  std::string model_type;  // config.json's "model_type": "llama", "bert", ...
  ModelFamily family = ModelFamily::Unsupported;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t blocks = 0;  // num_hidden_layers
  int64_t heads = 0;
  int64_t kv_heads = 0;  // grouped-query attention; == heads for BERT
  int64_t head_dim = 0;
  int64_t vocab = 0;
  int64_t max_positions = 0;
  int64_t token_types = 0;           // BERT only
  double norm_eps = 1e-6;            // rms_norm_eps (decoders) or layer_norm_eps (encoders)
  double rope_theta = 10000.0;       // decoders
  RopeScaling rope_scaling;          // decoders
  int64_t sliding_window = 0;        // mistral; 0 = full causal attention
  bool tie_word_embeddings = false;  // decoders: the head is the embedding matrix
  bool gelu_tanh = false;            // encoders: "gelu_new"/"gelu_pytorch_tanh" instead of the exact erf GELU
};

// Reads config.json of `directory`. Throws Error(config path, reason) when it is missing, not JSON, or lacks a field
// the family needs; an unknown model_type is not an error (family Unsupported).
ModelConfig read_model_config(const std::string& directory);

struct ModelTensor {
  TensorInfo info;
  LayerRole role = LayerRole::Other;
  int64_t block = -1;  // transformer block index, -1 outside the blocks
  std::string key;     // name inside its block ("self_attn.q_proj.weight") or the global name the family uses
  bool is_linear() const { return role <= LayerRole::Down; }
};

class Model {
 public:
  // Opens config.json + safetensors (single or sharded), or a llama.cpp GGUF model file (its metadata as the config,
  // its tensors under transformers' names: io/gguf_model_source.hpp). For a modelled family, checks that every tensor
  // the forward pass needs is present with the shape the config implies; throws Error(path or tensor, reason).
  static std::unique_ptr<Model> open(const std::string& directory);
  // A shape preset (model_preset.hpp) as a model: its linear layers with the preset's synthetic weights, named and
  // given roles as the family's checkpoints name them; directory() is the preset's synth: spec. Throws
  // Error(name, reason listing the presets) for an unknown name.
  static std::unique_ptr<Model> preset(const std::string& name);

  const std::string& directory() const { return directory_; }
  const ModelConfig& config() const { return config_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  // Why the model cannot run (unsupported architecture); empty when it can.
  const std::string& note() const { return note_; }
  // The compressible linear layers (q/k/v/o, gate/up/down) in forward order: block by block.
  std::vector<const ModelTensor*> linear_layers() const;
  // The tensor with this key in `block` (or globally for block -1); nullptr when absent (optional biases).
  const ModelTensor* find(int64_t block, const std::string& key) const;
  const ModelTensor& at(int64_t block, const std::string& key) const;  // throws Error when absent
  // Decodes any tensor to fp32 [rows, cols]; a vector is one row.
  MatrixF load(const ModelTensor& tensor) const;
  VectorF load_vector(const ModelTensor& tensor) const;
  // Rows [first, first + count) only (embedding lookups, the head in chunks).
  MatrixF load_rows(const ModelTensor& tensor, int64_t first, int64_t count) const {
    return source_->load_rows(tensor.info.name, first, count);
  }
  const WeightSource& source() const { return *source_; }

 private:
  Model() = default;
  // Gives every tensor of source_ its role and block from the family's layout, checking the shapes config_ implies.
  model_layout::Layout classify_tensors(const std::string& config_path);
  std::string directory_;
  ModelConfig config_;
  std::vector<ModelTensor> tensors_;
  std::string note_;
  std::unique_ptr<WeightSource> source_;
};

// The name of a model directory: one with config.json (does not open it).
bool is_model_directory(const std::string& path);
// A *.gguf file (does not open it).
bool is_gguf_file(const std::string& path);
// What Model::open takes: a model directory, or a llama.cpp GGUF model file (general.architecture and its
// block_count in the metadata; reads the header).
bool is_model_path(const std::string& path);

}  // namespace nmscope
