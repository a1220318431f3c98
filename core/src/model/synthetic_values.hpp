#pragma once
// The value streams of the synthetic generator: one row of N(0,1) or unit-variance Laplace floats from a 64-bit row
// seed. Value i depends only on (seed, i), through splitmix64 at counter i, so rows are generated in any order or
// number of threads with the same bits.
#include <cstdint>

namespace nmscope::synthetic {

// out[0..count) ~ N(0, 1): Box-Muller on pairs, one 64-bit draw per pair (23 bits for the radius, 24 for the angle;
// the radius reaches 5.8 sigma).
void fill_normal(float* out, int64_t count, uint64_t seed);
// out[0..count) ~ Laplace with unit variance.
void fill_laplace(float* out, int64_t count, uint64_t seed);
// One N(0, 1) value from the seed's counter `index` (per-row scales).
float normal_at(uint64_t seed, uint64_t index);

}  // namespace nmscope::synthetic
