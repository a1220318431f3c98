// run_forward: checks the model and the token ids, then hands over to the family's pass.
#include "nmscope/forward.hpp"

#include <algorithm>
#include <map>

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

MatrixF gather_rows(const Model& model, const ModelTensor& table, const std::vector<int64_t>& ids) {
  std::map<int64_t, Eigen::Index> distinct;
  for (int64_t id : ids) distinct.emplace(id, 0);
  MatrixF rows(Eigen::Index(distinct.size()), table.info.cols());
  Eigen::Index next = 0;
  for (auto& [id, row] : distinct) {
    row = next++;
    rows.row(row) = model.load_rows(table, id, 1);
  }
  MatrixF gathered(Eigen::Index(ids.size()), table.info.cols());
  for (std::size_t index = 0; index < ids.size(); ++index)
    gathered.row(Eigen::Index(index)) = rows.row(distinct[ids[index]]);
  return gathered;
}

MatrixF chunked_linear(const Model& model, const ModelTensor& weights, const MatrixF& x) {
  constexpr int64_t kRowsPerChunk = 4096;
  const int64_t rows = weights.info.rows();
  MatrixF y(x.rows(), rows);
  for (int64_t first = 0; first < rows; first += kRowsPerChunk) {
    const int64_t count = std::min(kRowsPerChunk, rows - first);
    y.middleCols(first, count) = transformer::linear(x, model.load_rows(weights, first, count));
  }
  return y;
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
