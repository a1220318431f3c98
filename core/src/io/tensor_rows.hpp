#pragma once
// A row range of a stored tensor without decoding the rest: row-major storage keeps each row's bytes together, for
// element types and for ggml block types alike (a block type's rows are whole blocks: the GGUF reader checks it).
#include <cstdint>
#include <optional>

#include "nmscope/weight_source.hpp"

namespace nmscope::io {

// Rows [first, first + count) of `tensor` as a RawTensor over their bytes; nullopt where the rows are not contiguous
// (npy Fortran order) or the type has no layout (Unsupported). Throws Error(tensor name) when the range is outside.
std::optional<RawTensor> contiguous_rows(const RawTensor& tensor, int64_t first, int64_t count);

// Throws Error(name, ...) unless [first, first + count) lies within `rows`.
void check_row_range(const std::string& name, int64_t first, int64_t count, int64_t rows);

}  // namespace nmscope::io
