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

// Row `ids[i]` of an embedding table for every i, decoding each distinct row once and nothing else of the table.
MatrixF gather_rows(const Model& model, const ModelTensor& table, const std::vector<int64_t>& ids);
// x W^T with W decoded kRowsPerChunk rows at a time: a 32k x 4096 head never exists whole in fp32.
MatrixF chunked_linear(const Model& model, const ModelTensor& weights, const MatrixF& x);

MatrixF decoder_forward(const Steps& steps, const TokenIds& tokens, ForwardOutput output);
MatrixF encoder_forward(const Steps& steps, const TokenIds& tokens);

}  // namespace nmscope::forward_steps
