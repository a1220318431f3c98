#pragma once
// A read-only memory map of a whole file, so a multi-GB weight file costs address space, not RAM: pages are read
// when a tensor is decoded and can be dropped by the kernel at any time.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace nmscope {

class MappedFile {
 public:
  // Throws Error(path, reason) when the file is missing, unreadable, a directory, or cannot be mapped.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }

 private:
  MappedFile(std::string path, const std::byte* data, std::size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace nmscope
