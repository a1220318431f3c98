// .gguf reader: magic and version, the tensor and metadata counts, metadata key/values (strings, nested arrays,
// general.alignment), tensor infos (dimensions, ggml type, offset) against the data section. Dictionary: gguf.dict.
#include "fuzz_support.hpp"
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
  return 0;
}
