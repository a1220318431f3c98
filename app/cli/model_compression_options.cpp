// Parsing of the shared model-compression options.
#include "model_compression_options.hpp"

#include <algorithm>

#include "nmscope/error.hpp"
#include "nmscope/model_study.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

void ModelCompressionOptions::add_to(CLI::App& command) {
  command.add_option("--pattern", pattern, "N:M pattern of the linear layers, e.g. 2:4 (default dense)");
  command.add_option("--bits", bits, "Bit width 2..8, or 16 for fp16 (default 16)");
  auto* group_option = command.add_option("--group", group, "Quantization group size along K")->capture_default_str();
  auto* channel = command.add_flag("--per-channel", per_channel, "One scale per output channel");
  auto* tensor = command.add_flag("--per-tensor", per_tensor, "One scale per tensor");
  channel->excludes(tensor);
  // A group size given with one scale per channel or per tensor would be ignored: the two ask for different grids.
  group_option->excludes(channel);
  group_option->excludes(tensor);
  command.add_flag("--asym", asymmetric, "Asymmetric quantization (scale and zero point)");
  criterion_option_ = command.add_option("--criterion", criterion, "Pruning criterion: magnitude, wanda or sparsegpt")
                          ->capture_default_str();
  quantizer_option_ =
      command.add_option("--quantizer", quantizer, "Quantizer: rtn (round to nearest) or gptq")->capture_default_str();
  calibration_option_ = command.add_option("--calib", calibration,
                                           "Calibration token ids .npy [sequences, tokens] (default: built-in set)");
}

void ModelCompressionOptions::check_usage() const {
  if (requested()) return;
  for (const CLI::Option* option : {criterion_option_, quantizer_option_, calibration_option_})
    if (option && option->count() > 0)
      throw UsageError(option->get_name(),
                       "shapes a compressed model: give --pattern or --bits too (without them the "
                       "model runs as loaded)");
}

ModelCompressionSettings ModelCompressionOptions::settings() const {
  ModelCompressionSettings settings;
  settings.pattern = pattern.empty() ? NMPattern::dense() : NMPattern::parse(pattern);
  const std::vector<int> bit_list = QuantConfig::parse_bits_list(bits.empty() ? "16" : bits);
  if (bit_list.size() != 1) throw UsageError("--bits", "one bit width per forward pass");
  settings.quant.bits = bit_list.front();
  settings.quant.group = group;
  settings.quant.granularity = per_tensor    ? Granularity::Tensor
                               : per_channel ? Granularity::Channel
                                             : Granularity::Group;
  settings.quant.symmetric = !asymmetric;
  settings.quant.validate();
  settings.criterion = parse_model_criterion(criterion);
  settings.quantizer = parse_quantizer(quantizer);
  return settings;
}

TokenIds ModelCompressionOptions::calibration_tokens(const Model& model) const {
  if (calibration.empty()) return builtin_calibration(model);
  TokenIds ids = read_token_ids(calibration);
  check_token_ids(ids, model, calibration);
  return ids;
}

}  // namespace nmscope::cli
