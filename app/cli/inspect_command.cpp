// nmscope-cli inspect PATH [--json]: the tensors of a source, with dtype, shape and notes.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
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

int inspect(const InspectOptions& options) {
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
