#pragma once
// How engines time their work (docs/conventions.md): warm-up, then repetitions until both a minimum count and a
// time budget are reached; median, p10, p90. Weight copies are rotated so that timed data is not cache-resident.
// Work that is compared (a variant and its baseline) is timed in alternating rounds, so that a load that comes and
// goes on a shared machine slows both alike and their per-round ratio stays what the kernels make it.
#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

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

// A ratio measured round by round: median and spread of first-body time / this body's time over the rounds.
struct RatioStats {
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  int rounds = 0;
};

struct InterleavedTiming {
  std::vector<TimingStats> stats;    // each body's own times
  std::vector<RatioStats> vs_first;  // per body: time of body 0 / time of this body in the same round
  std::vector<int> calls_per_round;  // per body: calls in a round (its sample is their mean)
};

using TimedBody = std::function<void(int repetition)>;

// Calls body(repetition) warm-up + timed times; throws Cancelled when `cancel` becomes true.
TimingStats time_repeated(const TimedBody& body, const TimingOptions& options, const std::atomic<bool>* cancel);

// Times the bodies in rounds, each round calling every body in turn (the order rotating from round to round), a
// fast body several times so that each spends about the same time per round; as many rounds as time_repeated would
// give one body, the time budget scaled by the number of bodies. Each body's repetition counts its own calls.
InterleavedTiming time_interleaved(const std::vector<TimedBody>& bodies, const TimingOptions& options,
                                   const std::atomic<bool>* cancel);

// How many copies of a `bytes_per_copy` buffer to rotate through so that together they exceed the last-level cache
// by at least one copy (at least 2).
int rotation_copies(std::size_t bytes_per_copy);

}  // namespace nmscope
