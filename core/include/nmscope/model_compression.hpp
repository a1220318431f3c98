#pragma once
// Compressing a whole model: every linear layer (q/k/v/o, gate/up/down; embeddings and head excluded) pruned to N:M
// and quantized into the packed format, layer by layer in forward order. Methods that need activations (wanda,
// sparsegpt, gptq) take them from a calibration forward pass of the model itself, in which each layer sees the
// already-compressed layers before it, as the Wanda, SparseGPT and GPTQ papers do.
#include <atomic>
#include <map>
#include <string>

#include "nmscope/forward.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"

namespace nmscope {

// magnitude and wanda as select_nm scores them; sparsegpt chooses masks from second-order scores (second_order.hpp).
enum class ModelCriterion { Magnitude, Wanda, SparseGPT };
// rtn: round to nearest after pruning (compress()); gptq: round column by column with second-order error feedback.
enum class Quantizer { RoundToNearest, Gptq };

ModelCriterion parse_model_criterion(const std::string& name);  // throws SettingError(Setting::Criterion, ...)
std::string model_criterion_name(ModelCriterion criterion);
Quantizer parse_quantizer(const std::string& name);  // throws SettingError(Setting::Quantizer, ...)
std::string quantizer_name(Quantizer quantizer);

struct ModelCompressionSettings {
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant;
  ModelCriterion criterion = ModelCriterion::Magnitude;
  Quantizer quantizer = Quantizer::RoundToNearest;
  double damping = 0.01;  // second-order methods: fraction of mean(diag H) added to the diagonal

  bool needs_calibration() const { return criterion != ModelCriterion::Magnitude || quantizer == Quantizer::Gptq; }
};

struct CompressedLayer {
  PackedMatrix packed;
  double weight_rel_err = 0.0;  // ||W - W_hat||_F / ||W||_F against the weights as loaded
  std::string note;             // a fallback the method took (a singular Hessian), empty when none
};

class CompressedModel {
 public:
  const std::map<std::string, CompressedLayer>& layers() const { return layers_; }
  int64_t storage_bytes() const;  // packed bytes of the compressed layers
  int64_t weight_count() const;   // N_out * K summed over the compressed layers
  // Hooks for run_forward that multiply each linear layer by its dequantized packed weights.
  ForwardHooks hooks(const std::atomic<bool>* cancel = nullptr) const;

 private:
  friend CompressedModel compress_model(const Model&, const ModelCompressionSettings&, const TokenIds*,
                                        const std::atomic<bool>*);
  std::map<std::string, CompressedLayer> layers_;
};

// `calibration` is required when settings.needs_calibration() (SettingError Calibration otherwise), ignored otherwise.
CompressedModel compress_model(const Model& model, const ModelCompressionSettings& settings,
                               const TokenIds* calibration, const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
