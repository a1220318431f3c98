// compress_model: magnitude + rtn needs only the weights; the other methods run the calibration forward pass with
// hooks that take each layer's inputs (norms for wanda, H = X^T X for sparsegpt/gptq) and hand back the compressed
// weights, so later layers are calibrated on the outputs of compressed ones.
#include "nmscope/model_compression.hpp"

#include "nmscope/error.hpp"
#include "nmscope/second_order.hpp"

namespace nmscope {

ModelCriterion parse_model_criterion(const std::string& name) {
  if (name == "magnitude") return ModelCriterion::Magnitude;
  if (name == "wanda") return ModelCriterion::Wanda;
  if (name == "sparsegpt") return ModelCriterion::SparseGPT;
  throw SettingError(Setting::Criterion, "'" + name + "' is not a pruning criterion (magnitude, wanda, sparsegpt)");
}

std::string model_criterion_name(ModelCriterion criterion) {
  switch (criterion) {
    case ModelCriterion::Magnitude:
      return "magnitude";
    case ModelCriterion::Wanda:
      return "wanda";
    case ModelCriterion::SparseGPT:
      break;
  }
  return "sparsegpt";
}

Quantizer parse_quantizer(const std::string& name) {
  if (name == "rtn") return Quantizer::RoundToNearest;
  if (name == "gptq") return Quantizer::Gptq;
  throw SettingError(Setting::Quantizer, "'" + name + "' is not a quantizer (rtn, gptq)");
}

std::string quantizer_name(Quantizer quantizer) { return quantizer == Quantizer::Gptq ? "gptq" : "rtn"; }

namespace {

double relative_error(const PackedMatrix& packed, const MatrixF& weights) {
  const double reference = weights.cast<double>().norm();
  const double error = (dequantize(packed).cast<double>() - weights.cast<double>()).norm();
  return reference > 0 ? error / reference : 0.0;
}

// The statistics of the current layer's calibration inputs that its method needs.
struct LayerInputs {
  VectorF norms;
  MatrixD hessian;
};

CompressedLayer compress_layer(const MatrixF& weights, const ModelCompressionSettings& settings,
                               const LayerInputs* inputs) {
  CompressedLayer layer;
  const bool second_order = settings.criterion == ModelCriterion::SparseGPT || settings.quantizer == Quantizer::Gptq;
  const PruningCriterion first_order =
      settings.criterion == ModelCriterion::Wanda ? PruningCriterion::Wanda : PruningCriterion::Magnitude;
  const VectorF* norms = settings.criterion == ModelCriterion::Wanda ? &inputs->norms : nullptr;
  if (!second_order) {
    layer.packed = compress(weights, select_nm(weights, settings.pattern, first_order, norms), settings.quant);
  } else {
    SecondOrderSettings second;
    second.pattern = settings.pattern;
    second.quant = settings.quant;
    second.damping = settings.damping;
    second.quantize_in_loop = settings.quantizer == Quantizer::Gptq;
    second.choose_mask = settings.criterion == ModelCriterion::SparseGPT;
    NMSelection fixed;
    if (!second.choose_mask) {
      fixed = select_nm(weights, settings.pattern, first_order, norms);
      second.fixed_mask = &fixed;
    }
    SecondOrderResult result = second_order_compress(weights, inputs->hessian, second);
    layer.packed = std::move(result.packed);
    layer.note = std::move(result.note);
  }
  layer.weight_rel_err = relative_error(layer.packed, weights);
  return layer;
}

// q, k and v read the same normed hidden states, and so do gate and up: their Hessian is computed once.
bool shares_previous_input(const ModelTensor& layer, const ModelTensor* previous) {
  if (!previous || previous->block != layer.block) return false;
  if (layer.role == LayerRole::Key || layer.role == LayerRole::Value)
    return previous->role == LayerRole::Query || previous->role == LayerRole::Key;
  return layer.role == LayerRole::Up && previous->role == LayerRole::Gate;
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
  if (!settings.needs_calibration()) {
    for (const ModelTensor* layer : model.linear_layers()) {
      if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
      result.layers_.emplace(layer->info.name, compress_layer(model.load(*layer), settings, nullptr));
    }
    return result;
  }
  if (!calibration) {
    throw SettingError(Setting::Calibration, model_criterion_name(settings.criterion) + " + " +
                                                 quantizer_name(settings.quantizer) + " needs calibration token ids");
  }
  const bool second_order = settings.criterion == ModelCriterion::SparseGPT || settings.quantizer == Quantizer::Gptq;
  LayerInputs inputs;
  const ModelTensor* previous = nullptr;
  ForwardHooks hooks;
  hooks.cancel = cancel;
  hooks.on_linear_input = [&](const ModelTensor& layer, const MatrixF& activations) {
    if (!shares_previous_input(layer, previous)) {
      if (settings.criterion == ModelCriterion::Wanda) inputs.norms = activation_column_norms(activations);
      if (second_order) inputs.hessian = input_hessian(activations);
    }
    previous = &layer;
  };
  hooks.linear_weights = [&](const ModelTensor& layer, MatrixF loaded) {
    auto [entry, inserted] = result.layers_.emplace(layer.info.name, compress_layer(loaded, settings, &inputs));
    return dequantize(entry->second.packed);
  };
  run_forward(model, *calibration, hooks, ForwardOutput::Final, setting_name(Setting::Calibration));
  return result;
}

}  // namespace nmscope
