#pragma once
// How engines time their work (docs/conventions.md): warm-up, then repetitions until both a minimum count and a
// time budget are reached; median, p10, p90. Weight copies are rotated so that timed data is not cache-resident.
#include <atomic>
#include <cstddef>
#include <functional>

namespace nmscope {

struct TimingOptions {
  int warmup = 2;
  int min_repetitions = 10;
  int max_repetitions = 500;
  double target_seconds = 0.3;  // keep repeating until this much time has been spent (or max_repetitions)
};

struct TimingStats {
  double median_us = 0;
  double p10_us = 0;
  double p90_us = 0;
  int repetitions = 0;
};

// Calls body(repetition) warm-up + timed times; throws Cancelled when `cancel` becomes true.
TimingStats time_repeated(const std::function<void(int repetition)>& body, const TimingOptions& options,
                          const std::atomic<bool>* cancel);

// How many copies of a `bytes_per_copy` buffer to rotate through so that together they exceed the last-level cache
// by at least one copy (at least 2).
int rotation_copies(std::size_t bytes_per_copy);

}  // namespace nmscope
