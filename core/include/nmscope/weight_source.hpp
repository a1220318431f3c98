#pragma once
// A source of weight tensors: one .npy, one .safetensors, a Hugging Face model directory (sharded or not), a .gguf,
// or the synthetic generator. Readers only index the file; bytes are decoded to fp32 when a tensor is loaded.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nmscope/dtype.hpp"
#include "nmscope/matrix.hpp"

namespace nmscope {

class MappedFile;

struct TensorInfo {
  std::string name;
  DType dtype = DType::Unsupported;
  std::string stored_type;        // the file's own spelling of the type ("<f2", "F16", "Q4_K", ...)
  std::vector<int64_t> shape;     // outermost dimension first (PyTorch order), also for GGUF
  bool is_matrix = false;         // prunable: 2-D, or >2-D folded to [prod(leading dims), last dim]
  std::string note;               // why it is not a matrix, or how it was folded; empty when nothing to say

  int64_t rows() const;           // [N_out] after folding (1 for a vector)
  int64_t cols() const;           // [K]
  int64_t element_count() const;
};

// A tensor's location inside a mapped file, as a reader found it. Bounds are validated by the reader.
struct RawTensor {
  TensorInfo info;
  std::span<const std::byte> bytes;   // exactly element_count() * dtype_size(dtype) bytes
  bool big_endian = false;
  bool column_major = false;          // npy fortran_order: the folded matrix is stored transposed
  std::shared_ptr<const MappedFile> file;
};

// Decodes a raw tensor to fp32 [rows, cols]; throws Error naming the tensor if its dtype cannot be decoded.
MatrixF decode_matrix(const RawTensor& tensor);
// A 64-bit content hash of the stored bytes (not cryptographic: identifies a layer in the results database).
uint64_t hash_bytes(std::span<const std::byte> bytes);
std::string hash_to_hex(uint64_t hash);

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // What the user named: a file, a directory, or a "synth:..." spec.
  virtual const std::string& location() const = 0;
  virtual const std::vector<TensorInfo>& tensors() const = 0;
  // Decodes one tensor to fp32 [rows, cols]; throws Error naming the tensor when it is unknown or not a matrix.
  virtual MatrixF load_matrix(const std::string& name) const = 0;
  // Decodes any decodable tensor, vectors included, to fp32 [rows, cols] (a vector is one row): a model's forward
  // pass needs its norms and biases too.
  virtual MatrixF load_tensor(const std::string& name) const { return load_matrix(name); }
  // Rows [first, first + count) of a tensor, decoded without decoding the rest where the layout allows: a model's
  // embedding table and head are gathered or streamed this way, so a 7B model never holds them whole in fp32.
  // Throws Error naming the tensor when the range is outside it.
  virtual MatrixF load_rows(const std::string& name, int64_t first, int64_t count) const;
  // Hex content hash of a tensor's stored bytes (or of the generator's parameters for synthetic tensors).
  virtual std::string tensor_hash(const std::string& name) const = 0;

  const TensorInfo* find(const std::string& name) const;
};

// How a source is recorded in the results database and keyed for --resume and merge: a file or directory as its
// canonical absolute path (symlinks and "./" resolved), so "fx/w.npy", "./fx/w.npy", its absolute path and the same
// file named from another working directory are one source; a "synth:..." spec as written.
std::string source_identity(const std::string& location);

// True for a "synth:..." spec (synthetic.hpp), which names a generator, not a file.
bool is_synthetic_spec(const std::string& location);

// Opens a file or directory, choosing by what the path is: a directory (HF model), *.npy, *.safetensors, *.gguf.
// Throws Error(path, reason) on anything it cannot use. Sources of every kind, synth: specs included, are opened by
// open_weight_source (synthetic.hpp), which the model layer implements because the specs name its model presets.
std::unique_ptr<WeightSource> open_weight_file(const std::string& location);

}  // namespace nmscope
