// run_forward: checks the model and the token ids, then hands over to the family's pass.
#include "nmscope/forward.hpp"

#include "model/forward_steps.hpp"
#include "model/transformer_math.hpp"
#include "nmscope/error.hpp"

namespace nmscope {

namespace forward_steps {

MatrixF Steps::linear(int64_t block, const std::string& weight_key, const MatrixF& x) const {
  const ModelTensor& layer = model_.at(block, weight_key);
  if (hooks_.on_linear_input) hooks_.on_linear_input(layer, x);
  MatrixF weights = model_.load(layer);
  if (hooks_.linear_weights) weights = hooks_.linear_weights(layer, std::move(weights));
  const std::string bias_key = weight_key.substr(0, weight_key.size() - std::string("weight").size()) + "bias";
  if (const ModelTensor* bias_tensor = model_.find(block, bias_key)) {
    const VectorF bias = model_.load_vector(*bias_tensor);
    return transformer::linear(x, weights, &bias);
  }
  return transformer::linear(x, weights);
}

void Steps::check_cancel() const {
  if (hooks_.cancel && hooks_.cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace forward_steps

MatrixF run_forward(const Model& model, const TokenIds& tokens, const ForwardHooks& hooks, ForwardOutput output,
                    const std::string& tokens_subject) {
  if (!model.note().empty()) throw Error(model.directory(), model.note());
  check_token_ids(tokens, model, tokens_subject);
  const forward_steps::Steps steps(model, hooks);
  if (model.config().family == ModelFamily::Decoder) return forward_steps::decoder_forward(steps, tokens, output);
  if (output == ForwardOutput::AllLogits)
    throw Error(model.directory(), "an encoder has no next-token logits; its output is the pooled embedding");
  return forward_steps::encoder_forward(steps, tokens);
}

}  // namespace nmscope
