// .safetensors reader: the u64 header length, the JSON header (dtype, shape, data_offsets, __metadata__), offsets
// against the data section and against each other. Dictionary: safetensors.dict.
#include "fuzz_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static fuzz::MemoryFile file;
  file.assign(data, size);
  try {
    fuzz::decode_all(read_safetensors(MappedFile::open(file.path())));
  } catch (const Error&) {
  }
  return 0;
}
