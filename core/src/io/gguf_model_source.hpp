#pragma once
// A llama.cpp model file as a weight source: its tensors under the names a Hugging Face checkpoint of the same
// architecture uses (blk.0.attn_q.weight -> model.layers.0.self_attn.q_proj.weight), so a layer read from a GGUF and
// from a safetensors directory is one layer to the model code and in the results database, and with Q and K rows
// back in Hugging Face order: llama.cpp's converter interleaves each head's two rotary halves (its rotary embedding
// turns adjacent pairs), which the forward pass here, like transformers', does not expect.
#include <memory>
#include <string>

#include "io/gguf_file.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::io {

// The architectures whose llama.cpp tensor names are mapped ("llama", "qwen2", "bert"); others keep the file's names.
bool gguf_architecture_is_mapped(const std::string& architecture);

// Whether `metadata` describes a model of a mapped architecture (general.architecture, its block_count and head
// counts), not a plain tensor container that gguf-py's writer labelled with an architecture.
bool gguf_is_mapped_model(const GgufMetadata& metadata);

// Serves the tensors, renamed and un-permuted when gguf_is_mapped_model(metadata), as they are otherwise.
std::unique_ptr<WeightSource> make_gguf_source(const std::string& location, const GgufMetadata& metadata,
                                               std::vector<RawTensor> tensors);

}  // namespace nmscope::io
