#pragma once
// A llama.cpp model file's tokenizer (tokenizer.ggml.*) as the tokenizer.json Hugging Face `tokenizers` would load for
// the same vocabulary, so one pipeline encodes both (transformers' GGUF loader converts the same way).
#include <nlohmann/json.hpp>

#include "io/gguf_file.hpp"

namespace nmscope::tokenizer {

// Supported: tokenizer.ggml.model "gpt2" (byte-level BPE with merges) with pre "default", "gpt-2", "smollm",
// "llama-bpe" or "qwen2", "llama" (SentencePiece BPE: pieces and scores, byte fallback) and "bert" (WordPiece in
// llama.cpp's phantom-space spelling, BERT's uncased normalizer, [CLS] ... [SEP]). Throws Error(path,
// reason) for anything else, naming it, rather than tokenize differently.
nlohmann::json gguf_tokenizer_json(const io::GgufMetadata& metadata);

}  // namespace nmscope::tokenizer
