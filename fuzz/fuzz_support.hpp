#pragma once
// What every fuzz target shares: the input as a file the readers can map (a memfd, so no disk traffic), one TBB
// worker (the fuzzer runs on shared cores and coverage should not depend on scheduling), and the rule the targets
// check: a parser may refuse an input only with nmscope::Error; anything else escapes and libFuzzer reports it.
#include <fcntl.h>
#include <sys/mman.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nmscope/error.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::fuzz {

// Tensors up to this many elements are decoded (4 MB of fp32); bigger ones are only indexed, so a valid header
// that names a large tensor the file really holds does not turn into a slow input.
constexpr int64_t kMaxDecodedElements = int64_t{1} << 20;

inline void single_threaded() {
  static tbb::global_control one_worker(tbb::global_control::max_allowed_parallelism, 1);
}

// A broken invariant: abort so libFuzzer keeps the input.
inline void check(bool holds) {
  if (!holds) std::abort();
}

// A directory of its own (in /dev/shm when writable, so no disk traffic) for targets whose reader takes a folder;
// removed at exit. `write` replaces one file in it with the input's bytes.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& name) {
    const char* shm = "/dev/shm";
    std::string pattern = (access(shm, W_OK) == 0 ? std::string(shm) : std::filesystem::temp_directory_path().string()) +
                          "/nmscope-fuzz-" + name + "-XXXXXX";
    check(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }

  void write(const std::string& file, const uint8_t* data, size_t size) const {
    const std::string target = path_ + "/" + file;
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    check(fd >= 0);
    for (size_t written = 0; written < size;) {
      const ssize_t step = ::write(fd, data + written, size - written);
      check(step > 0);
      written += static_cast<size_t>(step);
    }
    ::close(fd);
  }

 private:
  std::string path_;
};

// One anonymous in-memory file, rewritten for every input; readers open it by its /proc path.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("nmscope-fuzz", MFD_CLOEXEC)) {
    check(fd_ >= 0);
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& path() const { return path_; }

  void assign(const uint8_t* data, std::size_t size) {
    check(::ftruncate(fd_, 0) == 0);
    for (std::size_t written = 0; written < size;) {
      const ssize_t step = ::pwrite(fd_, data + written, size - written, static_cast<off_t>(written));
      check(step > 0);
      written += static_cast<std::size_t>(step);
    }
  }

 private:
  int fd_;
  std::string path_;
};

// What a user does after opening a file: hash every tensor and decode every matrix (small enough to decode here).
inline void decode_all(const std::vector<RawTensor>& tensors) {
  for (const auto& tensor : tensors) {
    const TensorInfo& info = tensor.info;
    hash_bytes(tensor.bytes);
    check(dtype_size(info.dtype) == 0 ||
          tensor.bytes.size() == static_cast<std::size_t>(info.element_count()) * dtype_size(info.dtype));
    if (!info.is_matrix || info.element_count() > kMaxDecodedElements) continue;
    try {
      const MatrixF matrix = decode_matrix(tensor);
      check(matrix.rows() == info.rows() && matrix.cols() == info.cols());
    } catch (const Error&) {
    }
  }
}

}  // namespace nmscope::fuzz
