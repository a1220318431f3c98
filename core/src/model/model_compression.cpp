// compress_model: magnitude needs only the weights; wanda runs the calibration forward pass with hooks that take each
// layer's input norms and hand back the compressed weights, so later layers are calibrated on compressed outputs.
#include "nmscope/model_compression.hpp"

#include "nmscope/error.hpp"

namespace nmscope {

namespace {

CompressedLayer compress_layer(const MatrixF& weights, const ModelCompressionSettings& settings,
                               const VectorF* input_norms) {
  CompressedLayer layer;
  layer.packed =
      compress(weights, select_nm(weights, settings.pattern, settings.criterion, input_norms), settings.quant);
  const double reference = weights.cast<double>().norm();
  const double error = (dequantize(layer.packed).cast<double>() - weights.cast<double>()).norm();
  layer.weight_rel_err = reference > 0 ? error / reference : 0.0;
  return layer;
}

}  // namespace

int64_t CompressedModel::storage_bytes() const {
  int64_t total = 0;
  for (const auto& [name, layer] : layers_) total += layer.packed.storage_bytes();
  return total;
}

int64_t CompressedModel::weight_count() const {
  int64_t total = 0;
  for (const auto& [name, layer] : layers_) total += layer.packed.rows * layer.packed.cols;
  return total;
}

ForwardHooks CompressedModel::hooks(const std::atomic<bool>* cancel) const {
  ForwardHooks hooks;
  hooks.cancel = cancel;
  hooks.linear_weights = [this](const ModelTensor& layer, MatrixF loaded) {
    const auto found = layers_.find(layer.info.name);
    return found == layers_.end() ? loaded : dequantize(found->second.packed);
  };
  return hooks;
}

CompressedModel compress_model(const Model& model, const ModelCompressionSettings& settings,
                               const TokenIds* calibration, const std::atomic<bool>* cancel) {
  settings.quant.validate();
  if (!model.note().empty()) throw Error(model.directory(), model.note());
  CompressedModel result;
  if (settings.criterion == PruningCriterion::Magnitude) {
    for (const ModelTensor* layer : model.linear_layers()) {
      if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
      result.layers_.emplace(layer->info.name, compress_layer(model.load(*layer), settings, nullptr));
    }
    return result;
  }
  if (!calibration) throw Error("--calib", criterion_name(settings.criterion) + " needs calibration token ids");
  VectorF input_norms;
  ForwardHooks hooks;
  hooks.cancel = cancel;
  hooks.on_linear_input = [&](const ModelTensor&, const MatrixF& inputs) {
    input_norms = activation_column_norms(inputs);
  };
  hooks.linear_weights = [&](const ModelTensor& layer, MatrixF loaded) {
    auto [entry, inserted] = result.layers_.emplace(layer.info.name, compress_layer(loaded, settings, &input_norms));
    return dequantize(entry->second.packed);
  };
  run_forward(model, *calibration, hooks, ForwardOutput::Final, "--calib");
  return result;
}

}  // namespace nmscope
