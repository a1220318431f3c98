// read_npy_matrix: the whole-file path used for activations and (with the model loader) token-id files, which are
// .npy int32 / int64 [sequences, tokens]. It decodes without a size cap, so the cap here is the input size:
// a file can only make the reader allocate in proportion to the bytes it really holds.
#include "fuzz_support.hpp"
#include "nmscope/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static fuzz::MemoryFile file;
  file.assign(data, size);
  try {
    const MatrixF matrix = read_npy_matrix(file.path());
    fuzz::check(static_cast<std::size_t>(matrix.size()) <= size);  // at least one byte per element
  } catch (const Error&) {
  }
  return 0;
}
