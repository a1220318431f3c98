// nmscope-cli inspect PATH [--json]: the tensors of a source, with dtype, shape and notes.
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "nmscope/model.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::cli {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t index = 0; index < shape.size(); ++index) text += (index ? ", " : "") + std::to_string(shape[index]);
  return text + "]";
}

struct InspectOptions {
  std::string path;
  bool json = false;
};

// A model directory (config.json beside the safetensors) lists the architecture first, then each tensor with its role:
// which layers a compression touches (the linear layers of the blocks) and which it leaves alone.
int inspect_model(const InspectOptions& options) {
  const auto model = Model::open(options.path);
  const ModelConfig& config = model->config();
  const size_t linear_count = model->linear_layers().size();
  // A llama.cpp file's linear layers are usually block-quantized: what a study of them measures is re-quantization.
  std::map<std::string, int> stored_quantized;
  for (const ModelTensor* layer : model->linear_layers())
    if (dtype_is_block_quantized(layer->info.dtype)) ++stored_quantized[layer->info.stored_type];
  std::string source_precision;
  for (const auto& [type, count] : stored_quantized)
    source_precision += (source_precision.empty() ? "" : ", ") + std::to_string(count) + " x " + type;
  if (!source_precision.empty())
    source_precision = "linear layers stored quantized (" + source_precision +
                       "): a study compresses their decoded values, not the original weights";
  if (options.json) {
    nlohmann::json header = {{"model_type", config.model_type}, {"family", family_name(config.family)},
                             {"blocks", config.blocks},         {"hidden", config.hidden},
                             {"heads", config.heads},           {"kv_heads", config.kv_heads},
                             {"vocab", config.vocab},           {"linear_layers", linear_count}};
    if (!model->note().empty()) header["note"] = model->note();
    if (!source_precision.empty()) header["source_precision"] = source_precision;
    std::cout << nlohmann::json{{"model", header}}.dump() << "\n";
  } else {
    std::cout << "model " << (config.model_type.empty() ? "(no model_type)" : config.model_type) << " ("
              << family_name(config.family) << "): " << config.blocks << " blocks, hidden " << config.hidden
              << ", heads " << config.heads << "/" << config.kv_heads << ", vocab " << config.vocab << ", "
              << linear_count << " linear layers compressed by default\n";
    if (!model->note().empty()) std::cout << "note: " << model->note() << "\n";
    if (!source_precision.empty()) std::cout << "note: " << source_precision << "\n";
  }
  for (const auto& tensor : model->tensors()) {
    const std::string block = tensor.block >= 0 ? std::to_string(tensor.block) : "-";
    if (options.json) {
      nlohmann::json row = {{"name", tensor.info.name},   {"dtype", std::string(dtype_name(tensor.info.dtype))},
                            {"shape", tensor.info.shape}, {"role", role_name(tensor.role)},
                            {"block", tensor.block},      {"compressed", tensor.is_linear()}};
      if (!tensor.info.note.empty()) row["note"] = tensor.info.note;
      std::cout << row.dump() << "\n";
    } else {
      std::cout << std::left << std::setw(56) << tensor.info.name << " " << std::setw(8) << tensor.info.stored_type
                << " " << std::setw(16) << shape_text(tensor.info.shape) << " " << std::setw(20)
                << role_name(tensor.role) << " " << std::setw(5) << block << " "
                << (tensor.is_linear() ? "compressed" : "excluded") << " " << tensor.info.note << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

int inspect(const InspectOptions& options) {
  if (is_model_path(options.path)) return inspect_model(options);
  const auto source = open_weight_source(options.path);
  for (const auto& tensor : source->tensors()) {
    if (options.json) {
      nlohmann::json row = {{"name", tensor.name},
                            {"dtype", std::string(dtype_name(tensor.dtype))},
                            {"stored_type", tensor.stored_type},
                            {"shape", tensor.shape},
                            {"matrix", tensor.is_matrix}};
      if (!tensor.note.empty()) row["note"] = tensor.note;
      std::cout << row.dump() << "\n";
    } else {
      std::cout << std::left << std::setw(56) << tensor.name << " " << std::setw(8) << tensor.stored_type << " "
                << std::setw(16) << shape_text(tensor.shape) << " " << tensor.note << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand("inspect", "List the tensors of a .npy, .safetensors, .gguf, model directory or synth: spec");
  command->add_option("PATH", options->path, "Weights: a file, a Hugging Face model directory or synth:SHAPE")->required();
  command->add_flag("--json", options->json, "One JSON object per tensor: name, dtype, shape");
  return {command, [options] { return inspect(*options); }};
}

}  // namespace nmscope::cli
