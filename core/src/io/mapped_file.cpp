#include "nmscope/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nmscope/error.hpp"

namespace nmscope {

namespace {

std::string open_failure_reason(int error) {
  switch (error) {
    case ENOENT: return "no such file";
    case EACCES:
    case EPERM: return "permission denied";
    case EISDIR: return "is a directory";
    case ENOTDIR: return "a parent of this path is not a directory";
    default: return std::strerror(error);
  }
}

// Closes the descriptor on every exit path; the map (if any) stays valid without it.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang waiting for a writer; it is refused below as not a regular file.
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) throw Error(path, open_failure_reason(errno));

  struct stat status {};
  if (::fstat(file.fd, &status) != 0) throw Error(path, std::strerror(errno));
  if (S_ISDIR(status.st_mode)) throw Error(path, "is a directory");
  if (!S_ISREG(status.st_mode)) throw Error(path, "not a regular file");

  const auto size = static_cast<std::size_t>(status.st_size);
  if (size == 0) return std::shared_ptr<const MappedFile>(new MappedFile(path, nullptr, 0));

  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (address == MAP_FAILED) throw Error(path, std::string("cannot be mapped: ") + std::strerror(errno));
  return std::shared_ptr<const MappedFile>(new MappedFile(path, static_cast<const std::byte*>(address), size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace nmscope
