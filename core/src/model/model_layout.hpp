#pragma once
// Where each family keeps its tensors and what shape the config implies for each: the one table that both the role
// listing and the shape check read, so the forward pass can trust every tensor it finds.
#include <string>
#include <vector>

#include "nmscope/model.hpp"

namespace nmscope::model_layout {

struct TensorSpec {
  std::string key;  // inside a block ("self_attn.q_proj.weight") or global ("model.norm.weight")
  LayerRole role;
  std::vector<int64_t> shape;  // as the config implies, outermost first
  bool required = true;
};

struct Layout {
  std::string root;          // prefix of every name the family knows ("bert." for BertModel saved with its head)
  std::string block_prefix;  // then "<index>." and the block key
  std::vector<TensorSpec> block;
  std::vector<TensorSpec> global;
};

// The layout of a modelled family; `names` lets it detect an optional root prefix. Unsupported: empty layout.
Layout layout_for(const ModelConfig& config, const std::vector<std::string>& names);

}  // namespace nmscope::model_layout
