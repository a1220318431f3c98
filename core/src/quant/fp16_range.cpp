#include "quant/fp16_range.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nmscope {

namespace {

constexpr double kLargestHalf = 65504.0;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

}  // namespace

void WeightRange::merge(const WeightRange& other) {
  lo = std::min(lo, other.lo);
  hi = std::max(hi, other.hi);
}

WeightRange weight_range(const MatrixF& weights) {
  if (weights.size() == 0) return {};
  return {weights.minCoeff(), weights.maxCoeff()};
}

std::string fp16_range_problem(const WeightRange& range, const QuantConfig& quant) {
  const double absmax = std::max(std::fabs(double(range.lo)), std::fabs(double(range.hi)));
  if (quant.is_fp16()) {
    if (absmax <= kLargestHalf) return {};
    return "fp16 overflow: weights up to " + number(absmax) +
           " exceed fp16's largest value 65504 and are stored "
           "as infinity";
  }
  // The widest grid any group can need: symmetric from the largest magnitude, asymmetric from the whole range
  // (a group spanning less needs less, so this is the worst case over groups).
  const double scale = quant.symmetric ? absmax / double((1 << (quant.bits - 1)) - 1)
                                       : (double(std::max(range.hi, 0.0f)) - double(std::min(range.lo, 0.0f))) /
                                             double((1 << quant.bits) - 1);
  if (scale <= kLargestHalf) return {};
  return "fp16 scale overflow: weights up to " + number(absmax) + " need a scale of " + number(scale) + " at " +
         std::to_string(quant.bits) + " bits, clamped to fp16's 65504, so the largest codes saturate";
}

}  // namespace nmscope
