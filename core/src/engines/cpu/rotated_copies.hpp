#pragma once
// The weight copies a CPU job rotates through (timing.hpp: rotation_copies), so that every timed call streams its
// weights from memory, as in a model, rather than from a cache the previous call warmed.
#include <atomic>
#include <vector>

#include "nmscope/error.hpp"

namespace nmscope::engines {

// `copies` copies of `original`, made one by one with a cancellation check: together they can be hundreds of MB.
template <class Weights>
std::vector<Weights> rotated_copies(const Weights& original, int copies, const std::atomic<bool>* cancel) {
  std::vector<Weights> rotated;
  rotated.reserve(size_t(copies));
  for (int copy = 0; copy < copies; ++copy) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
    rotated.push_back(original);
  }
  return rotated;
}

}  // namespace nmscope::engines
