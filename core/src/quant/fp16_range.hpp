#pragma once
// Where fp16 cannot hold what a configuration stores: fp16 weights beyond ±65504 become ±inf, and an integer grid's
// scale (an fp16 number too) beyond 65504 is clamped there, so the largest codes saturate. A row measured so is
// flagged (status "overflow" and a note) instead of passing as "ok" with an infinite or quietly wrong error.
#include <string>

#include "nmscope/matrix.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

struct WeightRange {
  float lo = 0;  // smallest weight (0 for an empty matrix)
  float hi = 0;  // largest weight
  void merge(const WeightRange& other);
};

WeightRange weight_range(const MatrixF& weights);

// What fp16 cannot hold for `quant` given weights in `range`, in one sentence; "" when everything fits.
std::string fp16_range_problem(const WeightRange& range, const QuantConfig& quant);

// The status of a row flagged by fp16_range_problem.
inline constexpr const char* kOverflowStatus = "overflow";

}  // namespace nmscope
