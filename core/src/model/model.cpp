// Model::open: config.json + the directory's safetensors, each tensor given its role from the family's layout, and
// every tensor the forward pass needs checked against the shape the config implies before any math runs.
#include "nmscope/model.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "io/gguf_model_source.hpp"
#include "model/gguf_model_config.hpp"
#include "model/model_layout.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/synthetic.hpp"

namespace nmscope {

std::string role_name(LayerRole role) {
  switch (role) {
    case LayerRole::Query:
      return "attn.q";
    case LayerRole::Key:
      return "attn.k";
    case LayerRole::Value:
      return "attn.v";
    case LayerRole::AttentionOutput:
      return "attn.o";
    case LayerRole::Gate:
      return "mlp.gate";
    case LayerRole::Up:
      return "mlp.up";
    case LayerRole::Down:
      return "mlp.down";
    case LayerRole::Embedding:
      return "embedding";
    case LayerRole::PositionEmbedding:
      return "position_embedding";
    case LayerRole::TokenTypeEmbedding:
      return "token_type_embedding";
    case LayerRole::Head:
      return "head";
    case LayerRole::Pooler:
      return "pooler";
    case LayerRole::Norm:
      return "norm";
    case LayerRole::Bias:
      return "bias";
    case LayerRole::Other:
      break;
  }
  return "other";
}

std::string family_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::Decoder:
      return "decoder";
    case ModelFamily::Encoder:
      return "encoder";
    case ModelFamily::Unsupported:
      break;
  }
  return "unsupported";
}

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t index = 0; index < shape.size(); ++index) text += (index ? ", " : "") + std::to_string(shape[index]);
  return text + "]";
}

// "12.attention.self.query.weight" -> (12, "attention.self.query.weight"); block -1 when it does not parse.
std::pair<int64_t, std::string> split_block(const std::string& rest) {
  int64_t block = -1;
  const auto dot = rest.find('.');
  if (dot == std::string::npos || dot == 0) return {-1, ""};
  const auto [end, failure] = std::from_chars(rest.data(), rest.data() + dot, block);
  if (failure != std::errc() || end != rest.data() + dot) return {-1, ""};
  return {block, rest.substr(dot + 1)};
}

void check_shape(const ModelTensor& tensor, const std::vector<int64_t>& expected, const std::string& config_path) {
  if (tensor.info.shape != expected) {
    throw Error(tensor.info.name, "shape " + shape_text(tensor.info.shape) + " does not match " + config_path +
                                      " (expected " + shape_text(expected) + ")");
  }
  if (!dtype_is_float(tensor.info.dtype))
    throw Error(tensor.info.name, "type " + tensor.info.stored_type + " is not a floating-point weight type");
}

}  // namespace

std::unique_ptr<Model> Model::open(const std::string& directory) {
  std::unique_ptr<Model> model(new Model());
  model->directory_ = directory;
  std::string config_path = directory + "/config.json";
  if (is_gguf_file(directory)) {
    // A llama.cpp model file: the metadata is the config, the tensors are served under transformers' names.
    io::GgufFile file = io::parse_gguf(MappedFile::open(directory), true);
    model->source_ = io::make_gguf_source(directory, file.metadata, std::move(file.tensors));
    model->config_ = gguf_model_config(file.metadata, *model->source_);
    config_path = directory + " (GGUF metadata)";
  } else {
    model->config_ = read_model_config(directory);
    model->source_ = open_weight_source(directory);
  }
  const model_layout::Layout layout = model->classify_tensors(config_path);
  const ModelConfig& config = model->config_;
  if (config.family == ModelFamily::Unsupported) {
    model->note_ = "architecture '" + config.model_type +
                   "' is not modelled (llama, mistral, qwen2 and bert are); its tensors are listed, it cannot run";
    return model;
  }
  for (int64_t block = 0; block < config.blocks; ++block) {
    for (const auto& spec : layout.block) {
      if (spec.required && !model->find(block, spec.key))
        throw Error(directory, "lacks " + layout.block_prefix + std::to_string(block) + "." + spec.key + ", which " +
                                   config_path + " implies");
    }
  }
  for (const auto& spec : layout.global) {
    if (spec.required && !model->find(-1, spec.key))
      throw Error(directory, "lacks " + layout.root + spec.key + ", which " + config_path + " implies");
  }
  return model;
}

std::unique_ptr<Model> Model::preset(const std::string& name) {
  const ModelPreset* preset = find_model_preset(name);
  if (!preset) throw Error(name, "no such model preset (" + model_preset_names() + ")");
  std::unique_ptr<Model> model(new Model());
  model->directory_ = preset->synth_spec();
  model->config_ = preset->config;
  model->source_ = open_weight_source(model->directory_);
  model->classify_tensors("preset " + preset->name);
  // Only the linear layers are generated: the preset is for studies of the compressible layers, not a forward pass.
  model->note_ = "shape preset " + preset->name + " with synthetic weights: its linear layers only, it cannot run";
  return model;
}

model_layout::Layout Model::classify_tensors(const std::string& config_path) {
  const ModelConfig& config = config_;
  std::vector<std::string> names;
  for (const auto& info : source_->tensors()) names.push_back(info.name);
  model_layout::Layout layout = model_layout::layout_for(config, names);
  std::unordered_map<std::string, const model_layout::TensorSpec*> block_specs, global_specs;
  for (const auto& spec : layout.block) block_specs.emplace(spec.key, &spec);
  for (const auto& spec : layout.global) global_specs.emplace(layout.root + spec.key, &spec);

  for (const auto& info : source_->tensors()) {
    ModelTensor tensor{info};
    const model_layout::TensorSpec* spec = nullptr;
    if (config.family == ModelFamily::Unsupported) {
      tensor.info.note = "architecture '" + config.model_type + "' is not modelled; listed as a tensor";
    } else if (info.name.rfind(layout.block_prefix, 0) == 0) {
      const auto [block, key] = split_block(info.name.substr(layout.block_prefix.size()));
      const auto found = block_specs.find(key);
      if (block >= 0 && block < config.blocks && found != block_specs.end()) {
        spec = found->second;
        tensor.block = block;
        tensor.key = key;
      }
    } else if (const auto found = global_specs.find(info.name); found != global_specs.end()) {
      spec = found->second;
      tensor.key = found->second->key;
    }
    if (spec) {
      tensor.role = spec->role;
      check_shape(tensor, spec->shape, config_path);
    } else if (config.family != ModelFamily::Unsupported) {
      tensor.info.note = "not used by the " + config.model_type + " forward pass";
    }
    tensors_.push_back(std::move(tensor));
  }
  return layout;
}

std::vector<const ModelTensor*> Model::linear_layers() const {
  std::vector<const ModelTensor*> layers;
  for (int64_t block = 0; block < config_.blocks; ++block) {
    for (const auto& tensor : tensors_)
      if (tensor.block == block && tensor.is_linear()) layers.push_back(&tensor);
  }
  // Forward order inside a block is the role order (q, k, v, o, gate, up, down), not the file's order.
  std::stable_sort(layers.begin(), layers.end(), [](const ModelTensor* a, const ModelTensor* b) {
    return a->block != b->block ? a->block < b->block : a->role < b->role;
  });
  return layers;
}

const ModelTensor* Model::find(int64_t block, const std::string& key) const {
  for (const auto& tensor : tensors_)
    if (tensor.block == block && tensor.key == key && (block >= 0 || tensor.role != LayerRole::Other)) return &tensor;
  return nullptr;
}

const ModelTensor& Model::at(int64_t block, const std::string& key) const {
  if (const ModelTensor* tensor = find(block, key)) return *tensor;
  throw Error(directory_, "lacks tensor '" + key + "'" + (block >= 0 ? " in block " + std::to_string(block) : ""));
}

MatrixF Model::load(const ModelTensor& tensor) const { return source_->load_tensor(tensor.info.name); }

VectorF Model::load_vector(const ModelTensor& tensor) const {
  const MatrixF row = load(tensor);
  return Eigen::Map<const VectorF>(row.data(), row.size());
}

}  // namespace nmscope
