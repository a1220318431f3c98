// Hugging Face model directory: the fuzzed bytes are model.safetensors.index.json in a directory that also holds two
// small valid shards (the tensors of make_fixtures.py's hf_sharded, so its index is the seed). The index decides
// which shards are opened (paths must stay inside the directory) and must agree with what the shards hold.
#include <cstdlib>
#include <filesystem>

#include "fuzz_support.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/writers.hpp"

namespace {

namespace fs = std::filesystem;

nmscope::TensorToWrite tensor(const std::string& name, nmscope::DType dtype, std::vector<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  std::vector<float> values(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<std::size_t>(i)] = static_cast<float>(i) * 0.25f - 3.0f;
  return {name, dtype, std::move(shape), std::move(values)};
}

// The directory with the two valid shards the fuzzed index refers to (or not), written once.
const nmscope::fuzz::ScratchDirectory& model_directory() {
  static const nmscope::fuzz::ScratchDirectory directory("hf");
  static const bool shards_written = [] {
    using nmscope::DType;
    nmscope::write_safetensors(directory.path() + "/model-00001-of-00002.safetensors",
                               {tensor("layers.0.q", DType::F32, {4, 8}), tensor("layers.0.k", DType::F16, {4, 8})});
    nmscope::write_safetensors(directory.path() + "/model-00002-of-00002.safetensors",
                               {tensor("layers.1.q", DType::F32, {6, 8}), tensor("norm", DType::F32, {8})});
    return true;
  }();
  nmscope::fuzz::check(shards_written);
  return directory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmscope;
  fuzz::single_threaded();
  const fuzz::ScratchDirectory& directory = model_directory();
  directory.write("model.safetensors.index.json", data, size);
  try {
    for (const auto& shard : hf_shard_files(directory.path()))
      fuzz::check(fs::path(shard).parent_path() == fs::path(directory.path()) ||
                  shard.rfind(directory.path() + "/", 0) == 0);
  } catch (const Error&) {
  }
  try {
    const auto source = open_weight_source(directory.path());
    for (const auto& info : source->tensors()) {
      source->tensor_hash(info.name);
      if (info.is_matrix) source->load_matrix(info.name);
    }
  } catch (const Error&) {
  }
  return 0;
}
