#pragma once
// Compressing a whole model: every linear layer (q/k/v/o, gate/up/down; embeddings and head excluded) pruned to N:M
// and quantized into the packed format, layer by layer in forward order. Criteria that need activations (wanda) take
// them from a calibration forward pass of the model itself, in which each layer sees the already-compressed layers
// before it, as the Wanda and SparseGPT papers do.
#include <atomic>
#include <map>
#include <string>

#include "nmscope/forward.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"

namespace nmscope {

struct ModelCompressionSettings {
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant;
  PruningCriterion criterion = PruningCriterion::Magnitude;
};

struct CompressedLayer {
  PackedMatrix packed;
  double weight_rel_err = 0.0;  // ||W - W_hat||_F / ||W||_F against the weights as loaded
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

// `calibration` is required for wanda (Error "--calib" otherwise) and ignored by magnitude.
CompressedModel compress_model(const Model& model, const ModelCompressionSettings& settings,
                               const TokenIds* calibration, const std::atomic<bool>* cancel = nullptr);

}  // namespace nmscope
