#pragma once
// The reference forward pass of a model, in fp32 over the loaded weights (Eigen, parallel with TBB): what the
// compressed model is compared against, and the source of calibration activations. It runs block by block over all
// sequences at once, so only one block's weights are decoded at a time and each linear layer's inputs for the whole
// token set are available in one matrix.
#include <atomic>
#include <functional>

#include "nmscope/error.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/model.hpp"
#include "nmscope/token_ids.hpp"

namespace nmscope {

struct ForwardHooks {
  // Fires with each linear layer's input activations X [sequences * tokens, K] (row = sequence * tokens + position),
  // before the layer's weights are asked for: calibration capture and second-order statistics hang here.
  std::function<void(const ModelTensor& layer, const MatrixF& inputs)> on_linear_input;
  // The weights a linear layer multiplies by, given the weights as loaded; unset = as loaded. Called once per layer,
  // in forward order, after on_linear_input for that layer, so a compressor can use that layer's inputs.
  std::function<MatrixF(const ModelTensor& layer, MatrixF loaded)> linear_weights;
  const std::atomic<bool>* cancel = nullptr;  // checked between blocks; throws Cancelled
};

enum class ForwardOutput {
  Final,      // decoders: logits of the last position [sequences, vocab]; encoders: pooled, L2-normalized
              // embeddings [sequences, hidden] (mean over tokens, as sentence-transformers does)
  AllLogits,  // decoders only: logits of every position [sequences * tokens, vocab]
};

// Throws Error when the model's architecture is not modelled, or the token ids do not fit the model
// (check_token_ids), naming `tokens_subject`.
MatrixF run_forward(const Model& model, const TokenIds& tokens, const ForwardHooks& hooks = {},
                    ForwardOutput output = ForwardOutput::Final,
                    const std::string& tokens_subject = setting_name(Setting::Tokens));

}  // namespace nmscope
