#pragma once
// What the two families' forward passes share: running one named linear layer through the hooks, loading norms, and
// the cancellation check between blocks.
#include "nmscope/forward.hpp"

namespace nmscope::forward_steps {

class Steps {
 public:
  Steps(const Model& model, const ForwardHooks& hooks) : model_(model), hooks_(hooks) {}

  // y = x W^T + b for the layer `key` of `block`: inputs to on_linear_input, weights through linear_weights, the bias
  // (when the file has one: the key with ".weight" -> ".bias") as loaded.
  MatrixF linear(int64_t block, const std::string& weight_key, const MatrixF& x) const;
  VectorF vector(int64_t block, const std::string& key) const { return model_.load_vector(model_.at(block, key)); }
  MatrixF matrix(int64_t block, const std::string& key) const { return model_.load(model_.at(block, key)); }
  void check_cancel() const;
  const Model& model() const { return model_; }

 private:
  const Model& model_;
  const ForwardHooks& hooks_;
};

MatrixF decoder_forward(const Steps& steps, const TokenIds& tokens, ForwardOutput output);
MatrixF encoder_forward(const Steps& steps, const TokenIds& tokens);

}  // namespace nmscope::forward_steps
