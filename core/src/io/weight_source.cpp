// open_weight_source: picks the reader by what the location is, and serves tensors from mapped files. Indexing is
// eager (headers are small); decoding is lazy, per load_matrix call.
#include "nmscope/weight_source.hpp"

#include <filesystem>
#include <unordered_map>

#include "io/gguf_model_source.hpp"
#include "io/hf_index.hpp"
#include "io/tensor_rows.hpp"
#include "nmscope/error.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

namespace nmscope {

namespace fs = std::filesystem;

MatrixF WeightSource::load_rows(const std::string& name, int64_t first, int64_t count) const {
  const MatrixF whole = load_tensor(name);
  io::check_row_range(name, first, count, whole.rows());
  return whole.middleRows(first, count);
}

const TensorInfo* WeightSource::find(const std::string& name) const {
  for (const auto& info : tensors()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

namespace {

// The tensors of one or more mapped files; each RawTensor keeps its file's map alive.
class FileWeightSource final : public WeightSource {
 public:
  FileWeightSource(std::string location, std::vector<RawTensor> raw)
      : location_(std::move(location)), raw_(std::move(raw)) {
    for (std::size_t i = 0; i < raw_.size(); ++i) {
      const std::string& name = raw_[i].info.name;
      if (!by_name_.emplace(name, i).second) {
        throw Error(location_, "tensor '" + name + "' appears twice (in " + raw_[by_name_[name]].file->path() +
                                   " and " + raw_[i].file->path() + ")");
      }
      infos_.push_back(raw_[i].info);
    }
  }

  const std::string& location() const override { return location_; }
  const std::vector<TensorInfo>& tensors() const override { return infos_; }

  MatrixF load_matrix(const std::string& name) const override {
    const RawTensor& tensor = raw(name);
    if (!tensor.info.is_matrix) throw Error(name, tensor.info.note.empty() ? "not a matrix" : tensor.info.note);
    return decode_matrix(tensor);
  }

  MatrixF load_tensor(const std::string& name) const override { return decode_matrix(raw(name)); }
  MatrixF load_rows(const std::string& name, int64_t first, int64_t count) const override {
    // Fortran-order .npy keeps rows apart: a whole decode, then the rows.
    if (auto part = io::contiguous_rows(raw(name), first, count)) return decode_matrix(*part);
    return WeightSource::load_rows(name, first, count);
  }
  std::string tensor_hash(const std::string& name) const override { return hash_to_hex(hash_bytes(raw(name).bytes)); }

 private:
  const RawTensor& raw(const std::string& name) const {
    const auto found = by_name_.find(name);
    if (found == by_name_.end()) throw Error(name, "no such tensor in " + location_);
    return raw_[found->second];
  }

  std::string location_;
  std::vector<RawTensor> raw_;
  std::vector<TensorInfo> infos_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

std::unique_ptr<WeightSource> open_model_directory(const std::string& location) {
  const io::HfDirectory directory = io::read_hf_directory(location);
  std::vector<RawTensor> all;
  std::unordered_map<std::string, std::string> shard_of;  // tensor name -> shard path, to check the index against
  for (const auto& shard : directory.shard_paths) {
    for (auto& tensor : read_safetensors(MappedFile::open(shard))) {
      shard_of.emplace(tensor.info.name, shard);
      all.push_back(std::move(tensor));
    }
  }
  for (const auto& [tensor_name, shard] : directory.weight_map) {
    const auto found = shard_of.find(tensor_name);
    if (found == shard_of.end() || found->second != shard) {
      throw Error(directory.index_path, "maps tensor '" + tensor_name + "' to " + fs::path(shard).filename().string() +
                                            ", which does not hold it");
    }
  }
  return std::make_unique<FileWeightSource>(location, std::move(all));
}

}  // namespace

bool is_synthetic_spec(const std::string& location) { return location.rfind("synth:", 0) == 0; }

std::string source_identity(const std::string& location) {
  if (is_synthetic_spec(location)) return location;
  std::error_code error;
  const fs::path canonical = fs::canonical(location, error);
  return error ? location : canonical.string();
}

std::unique_ptr<WeightSource> open_weight_file(const std::string& location) {
  if (is_synthetic_spec(location))
    throw Error(location, "is a synthetic spec, not a file or directory (open_weight_source opens both)");
  std::error_code error;
  const auto status = fs::status(location, error);
  if (!fs::exists(status)) throw Error(location, "no such file or directory");
  if (fs::is_directory(status)) return open_model_directory(location);

  const fs::path path(location);
  const std::string extension = path.extension().string();
  if (extension == ".npy")
    return std::make_unique<FileWeightSource>(location, read_npy(MappedFile::open(location), path.stem().string()));
  if (extension == ".safetensors")
    return std::make_unique<FileWeightSource>(location, read_safetensors(MappedFile::open(location)));
  if (extension == ".gguf") {
    io::GgufFile file = io::parse_gguf(MappedFile::open(location), true);
    return io::make_gguf_source(location, file.metadata, std::move(file.tensors));
  }
  throw Error(location, "unknown format (expected .npy, .safetensors, .gguf, a model directory or synth:...)");
}

}  // namespace nmscope
