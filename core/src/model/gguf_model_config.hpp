#pragma once
// A llama.cpp model file's metadata ({arch}.block_count, {arch}.attention.head_count, ...) as the config.json a
// transformers checkpoint of the same model has, checked by the same parser (parse_model_config).
#include "io/gguf_file.hpp"
#include "nmscope/model.hpp"

namespace nmscope {

// `source` is the file's tensors as make_gguf_source serves them (an absent lm_head.weight means a tied head).
// Throws Error(path, reason) for a missing key or a feature the forward pass does not model (partial rotary,
// YaRN scaling, Llama 3.1's rope_freqs factors; a causal or CLS-pooled BERT); an architecture that is not mapped
// gives family Unsupported.
ModelConfig gguf_model_config(const io::GgufMetadata& metadata, const WeightSource& source);

}  // namespace nmscope
