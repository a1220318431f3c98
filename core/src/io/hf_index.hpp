#pragma once
// A Hugging Face model directory as files: its shard paths and, when an index exists, which shard holds which tensor
// (so the source can check the index against the shards it names).
#include <string>
#include <utility>
#include <vector>

namespace nmscope::io {

struct HfDirectory {
  std::vector<std::string> shard_paths;                         // full paths, index order (or sorted by name)
  std::vector<std::pair<std::string, std::string>> weight_map;  // tensor name -> shard path; empty without an index
  std::string index_path;                                       // empty without an index
};

// Throws Error(directory or index path, reason) when the index is malformed, a shard is missing, or a shard path
// leaves the directory (absolute, "..", or a symlink that resolves outside it).
HfDirectory read_hf_directory(const std::string& directory);

}  // namespace nmscope::io
