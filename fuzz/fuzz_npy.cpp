// .npy reader: header (magic, version, header length, the Python dict literal) and data (size against the shape,
// byte order, Fortran order). Seeds: tests/fixtures/make_fixtures.py's .npy files.
#include "fuzz_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  static fuzz::MemoryFile file;
  file.assign(data, size);
  try {
    fuzz::decode_all(read_npy(MappedFile::open(file.path()), "fuzzed"));
  } catch (const Error&) {
  }
  return 0;
}
