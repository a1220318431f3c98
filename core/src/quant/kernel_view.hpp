#pragma once
// The kernels' view of a packed matrix (docs/packed-format.md): pointers into the PackedMatrix, no copy. Private to
// core (engines, decoders) and the kernels' white-box tests, so that core's public headers carry no kernels types.
#include "nmscope/kernels/packed_weights_view.hpp"
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

// Valid while `packed` lives and is not modified.
kernels::PackedWeightsView kernel_view(const PackedMatrix& packed);

}  // namespace nmscope
