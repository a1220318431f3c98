#pragma once
// The error-vs-storage Pareto front: the configurations no other one beats on both storage and error. Pure, so that
// the rule is tested apart from the chart.
#include <vector>

namespace nmscope::gui {

struct ParetoPoint {
  double cost = 0;   // lower is better (bits per weight; the negated compression ratio)
  double error = 0;  // lower is better
};

// Indices of the points on the front, by increasing cost (so by decreasing error). A point is on it when no other
// point has cost <= and error <= with one of them strictly lower. Of exactly equal points only the first (lowest
// index) is kept, so the front's line has no zero-length steps. Points with a NaN coordinate are ignored.
std::vector<int> pareto_front(const std::vector<ParetoPoint>& points);

}  // namespace nmscope::gui
