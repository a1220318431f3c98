#include "masks/model_masks.hpp"

#include "nmscope/error.hpp"
#include "nmscope/model_study.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/token_ids.hpp"

namespace nmscope::gui {

std::shared_ptr<ModelMasks> ModelMasks::open(const std::string& location, std::string* why) {
  if (!is_model_path(location)) return nullptr;
  std::unique_ptr<Model> model = Model::open(location);
  if (!model->note().empty()) {
    if (why) *why = model->note();
    return nullptr;
  }
  int64_t weights = 0;
  for (const ModelTensor* layer : model->linear_layers()) weights += layer->info.rows() * layer->info.cols();
  if (weights > kMaxLinearWeights) {
    if (why)
      *why = "the model has " + std::to_string(weights / 1'000'000) +
             " M compressible weights: too many to compress whole for the mask view";
    return nullptr;
  }
  return std::shared_ptr<ModelMasks>(new ModelMasks(std::move(model)));
}

ModelMasks::ModelMasks(std::unique_ptr<Model> model) : model_(std::move(model)) {}

std::string ModelMasks::calibration_description() const {
  const TokenIds calibration = builtin_calibration(*model_);
  return "the model's own forward over its built-in calibration set (" + std::to_string(calibration.sequences) +
         " × " + std::to_string(calibration.tokens) + " tokens)";
}

std::shared_ptr<const NMSelection> ModelMasks::selection(const std::string& layer, ModelCriterion criterion,
                                                         const NMPattern& pattern, const QuantConfig& quant) {
  const Key key{int(criterion), pattern.to_string(), quant.bits, int(quant.granularity), quant.group,
                quant.symmetric};
  std::lock_guard lock(mutex_);
  auto found = cache_.find(key);
  if (found == cache_.end()) {
    ModelCompressionSettings settings;
    settings.pattern = pattern;
    settings.quant = quant;
    settings.criterion = criterion;
    const TokenIds calibration = builtin_calibration(*model_);
    const CompressedModel compressed = compress_model(*model_, settings, &calibration);
    std::map<std::string, std::shared_ptr<const NMSelection>> masks;
    for (const auto& [name, compressed_layer] : compressed.layers())
      masks.emplace(name, std::make_shared<const NMSelection>(unpack_selection(compressed_layer.packed)));
    found = cache_.emplace(key, std::move(masks)).first;
  }
  const auto mask = found->second.find(layer);
  if (mask == found->second.end())
    throw Error(layer, "not a compressed linear layer of this model (embeddings, head and norms are not pruned)");
  return mask->second;
}

}  // namespace nmscope::gui
