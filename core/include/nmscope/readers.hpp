#pragma once
// Format readers. Each one validates every declared size and offset against the mapped file before it trusts it
// (a header may lie), and throws Error(file path, reason) otherwise. They index; decode_matrix() decodes.
#include <memory>
#include <string>
#include <vector>

#include "nmscope/weight_source.hpp"

namespace nmscope {

// .npy format 1.0 / 2.0 / 3.0. `tensor_name` is what the single array is called (the file's stem by default).
std::vector<RawTensor> read_npy(std::shared_ptr<const MappedFile> file, const std::string& tensor_name);
// .safetensors: u64 little-endian header length, JSON header, data section. `__metadata__` is skipped.
std::vector<RawTensor> read_safetensors(std::shared_ptr<const MappedFile> file);
// .gguf v2 / v3. Quantized block types are listed (dtype Unsupported, note says so) but not decodable.
std::vector<RawTensor> read_gguf(std::shared_ptr<const MappedFile> file);

// The shard files of a Hugging Face model directory: the shards named by model.safetensors.index.json, or every
// *.safetensors in the directory when there is no index. Paths are refused when they leave the directory.
std::vector<std::string> hf_shard_files(const std::string& directory);

// Reads a whole .npy as fp32 [rows, cols] (a 1-D array is one row); used for activations and calibration data.
MatrixF read_npy_matrix(const std::string& path);

}  // namespace nmscope
