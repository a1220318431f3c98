#include "charts/pareto_front.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nmscope::gui {

std::vector<int> pareto_front(const std::vector<ParetoPoint>& points) {
  std::vector<int> order;
  for (int index = 0; index < int(points.size()); ++index)
    if (!std::isnan(points[size_t(index)].cost) && !std::isnan(points[size_t(index)].error)) order.push_back(index);
  // Cheapest first; among equal cost the lowest error, and among equal points the first given.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const ParetoPoint& pa = points[size_t(a)];
    const ParetoPoint& pb = points[size_t(b)];
    return pa.cost != pb.cost ? pa.cost < pb.cost : pa.error < pb.error;
  });
  // Sweeping by cost, a point is on the front exactly when it lowers the best error seen so far.
  std::vector<int> front;
  double best_error = std::numeric_limits<double>::infinity();
  for (int index : order) {
    if (points[size_t(index)].error < best_error) {
      front.push_back(index);
      best_error = points[size_t(index)].error;
    }
  }
  return front;
}

}  // namespace nmscope::gui
