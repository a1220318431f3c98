// .gguf reader: magic and version, the tensor and metadata counts, metadata key/values (strings, nested arrays,
// general.alignment), tensor infos (dimensions, ggml type, offset) against the data section, the block types' decoding;
// then the file as a llama.cpp model: its tensors renamed and un-permuted, its metadata as a model config and as a
// tokenizer. Dictionary: gguf.dict.
#include "fuzz_support.hpp"
#include "io/gguf_file.hpp"
#include "io/gguf_model_source.hpp"
#include "model/gguf_model_config.hpp"
#include "model/tokenizer/gguf_tokenizer.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static fuzz::MemoryFile file;
  file.assign(data, size);
  try {
    fuzz::decode_all(read_gguf(MappedFile::open(file.path())));
  } catch (const Error&) {
  }
  try {
    io::GgufFile parsed = io::parse_gguf(MappedFile::open(file.path()), true);
    const auto source = io::make_gguf_source(file.path(), parsed.metadata, parsed.tensors);
    for (const TensorInfo& info : source->tensors()) {
      if (!info.is_matrix || info.element_count() > fuzz::kMaxDecodedElements) continue;
      try {
        source->load_matrix(info.name);
      } catch (const Error&) {
      }
    }
    try {
      gguf_model_config(parsed.metadata, *source);
    } catch (const Error&) {
    }
    try {
      tokenizer::gguf_tokenizer_json(parsed.metadata);
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
  return 0;
}
