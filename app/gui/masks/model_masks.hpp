#pragma once
// The masks a whole-model compression really chooses: for a model directory the mask view does not prune a layer
// alone but asks core to compress the whole model on its own calibration forward (compress_model, layer by layer,
// each layer seeing the compressed ones before it), exactly as `nmscope-cli model-eval` does. What it shows for
// wanda and sparsegpt is then the mask that model's evaluation measured. One compression serves every layer, so
// results are kept per (criterion, pattern, quantization).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "nmscope/model.hpp"
#include "nmscope/model_compression.hpp"
#include "nmscope/pruning.hpp"

namespace nmscope::gui {

class ModelMasks {
 public:
  // Models with more compressible weights than this are not compressed whole for a picture: that is minutes of
  // work; their layers are pruned alone from an activations file instead.
  static constexpr int64_t kMaxLinearWeights = 400'000'000;

  // Null when `location` is not a model directory whose forward pass core runs, or when it is too large (`why`, when
  // given, says which).
  static std::shared_ptr<ModelMasks> open(const std::string& location, std::string* why = nullptr);

  // The selection compress_model chose for `layer` (a tensor name). The first call for a configuration compresses
  // the whole model (seconds for a small encoder); later calls are lookups. Thread-safe; throws nmscope::Error.
  std::shared_ptr<const NMSelection> selection(const std::string& layer, ModelCriterion criterion,
                                               const NMPattern& pattern, const QuantConfig& quant);
  // "the built-in calibration set (16 × 64 tokens)": where the activations came from, for captions.
  std::string calibration_description() const;
  const Model& model() const { return *model_; }

 private:
  explicit ModelMasks(std::unique_ptr<Model> model);
  using Key = std::tuple<int, std::string, int, int, int, bool>;

  std::unique_ptr<Model> model_;
  std::mutex mutex_;  // held through a compression: a second request for the same masks waits instead of redoing it
  std::map<Key, std::map<std::string, std::shared_ptr<const NMSelection>>> cache_;
};

}  // namespace nmscope::gui
