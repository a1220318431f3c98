#pragma once
// Writers for the formats nmscope reads: test fixtures, exported pruned/quantized weights. Each writes to a
// temporary file beside the target and renames it, so a failed write never leaves half a file under the name.
#include <cstdint>
#include <string>
#include <vector>

#include "nmscope/dtype.hpp"
#include "nmscope/matrix.hpp"

namespace nmscope {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;            // F32, F16, BF16, F64 (converted from `values` on write)
  std::vector<int64_t> shape;          // outermost first; product must equal values.size()
  std::vector<float> values;           // row-major (C order)
};

void write_npy(const std::string& path, const TensorToWrite& tensor);
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors);
void write_gguf(const std::string& path, const std::vector<TensorToWrite>& tensors);  // GGUF v3, alignment 32

TensorToWrite tensor_from_matrix(const std::string& name, const MatrixF& matrix, DType dtype);

}  // namespace nmscope
