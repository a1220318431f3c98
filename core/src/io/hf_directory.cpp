// Hugging Face model directories: model.safetensors.index.json names the shards; without it every *.safetensors file
// is a shard. The index is read in file order (ordered_json) so shards keep the order the model author gave.
// Shard names come from a file a stranger may have written, so each one must stay inside the directory.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/hf_index.hpp"
#include "nmscope/error.hpp"
#include "nmscope/readers.hpp"

namespace nmscope {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr std::uintmax_t kMaxIndexBytes = 64ull << 20;

// The shard's full path if `name` names a file inside `root`: relative, without "..". The name is checked as
// written, not where it resolves: a symlink in the folder is followed wherever it points, since the user (or the
// Hugging Face cache, whose snapshots/<rev>/ files link to ../../blobs/) put it there; an index that names a file
// outside the folder is refused.
std::string contained_shard_path(const fs::path& root, const std::string& name, const std::string& subject) {
  const fs::path relative(name);
  if (name.empty() || relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    throw Error(subject, "shard path '" + name + "' is absolute; shards must be inside the model directory");
  }
  for (const auto& part : relative) {
    if (part == "..")
      throw Error(subject, "shard path '" + name + "' contains '..'; shards must be inside the model directory");
  }
  return (root / relative).string();
}

nlohmann::ordered_json read_index(const fs::path& index_path) {
  const std::string subject = index_path.string();
  std::error_code error;
  const auto size = fs::file_size(index_path, error);
  if (error) throw Error(subject, "cannot be read: " + error.message());
  if (size > kMaxIndexBytes) throw Error(subject, "larger than 64 MB; not a shard index");
  std::ifstream stream(index_path, std::ios::binary);
  if (!stream) throw Error(subject, "cannot be opened");
  std::ostringstream text;
  text << stream.rdbuf();
  try {
    return nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::exception& failure) {
    throw Error(subject, std::string("not valid JSON: ") + failure.what());
  }
}

}  // namespace

namespace io {

HfDirectory read_hf_directory(const std::string& directory) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) throw Error(directory, "not a directory");
  const fs::path root = fs::canonical(directory, error);
  if (error) throw Error(directory, "cannot be resolved: " + error.message());

  HfDirectory result;
  const fs::path index_path = fs::path(directory) / kIndexName;
  if (fs::exists(index_path, error)) {
    result.index_path = index_path.string();
    const nlohmann::ordered_json index = read_index(index_path);
    const auto weight_map = index.is_object() ? index.find("weight_map") : index.end();
    if (!index.is_object() || weight_map == index.end() || !weight_map->is_object()) {
      throw Error(result.index_path, "has no 'weight_map' object");
    }
    for (const auto& [tensor_name, shard] : weight_map->items()) {
      if (!shard.is_string())
        throw Error(result.index_path, "weight_map entry '" + tensor_name + "' is not a file name");
      const std::string shard_path = contained_shard_path(root, shard.get<std::string>(), result.index_path);
      if (std::find(result.shard_paths.begin(), result.shard_paths.end(), shard_path) == result.shard_paths.end()) {
        if (!fs::is_regular_file(shard_path, error)) {
          throw Error(result.index_path, "names shard '" + shard.get<std::string>() + "', which is missing");
        }
        result.shard_paths.push_back(shard_path);
      }
      result.weight_map.emplace_back(tensor_name, shard_path);
    }
    if (result.shard_paths.empty()) throw Error(result.index_path, "weight_map names no shards");
    return result;
  }

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".safetensors") names.push_back(entry.path().filename().string());
  }
  if (error) throw Error(directory, "cannot be listed: " + error.message());
  if (names.empty()) throw Error(directory, "no .safetensors files (and no " + std::string(kIndexName) + ")");
  std::sort(names.begin(), names.end());
  for (const auto& name : names) result.shard_paths.push_back(contained_shard_path(root, name, directory));
  return result;
}

}  // namespace io

std::vector<std::string> hf_shard_files(const std::string& directory) {
  return io::read_hf_directory(directory).shard_paths;
}

}  // namespace nmscope
