#include "nmscope/timing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "nmscope/error.hpp"
#include "nmscope/host_info.hpp"

namespace nmscope {

namespace {

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const double position = fraction * double(sorted.size() - 1);
  const size_t below = size_t(position);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - double(below)) * (sorted[above] - sorted[below]);
}

TimingStats stats_of(std::vector<double> samples_us) {  // by value: sorted here
  std::sort(samples_us.begin(), samples_us.end());
  TimingStats stats;
  stats.median_us = percentile(samples_us, 0.5);
  stats.p10_us = percentile(samples_us, 0.1);
  stats.p90_us = percentile(samples_us, 0.9);
  stats.repetitions = int(samples_us.size());
  return stats;
}

RatioStats ratio_stats(std::vector<double> ratios) {
  std::sort(ratios.begin(), ratios.end());
  return {percentile(ratios, 0.5), percentile(ratios, 0.1), percentile(ratios, 0.9), int(ratios.size())};
}

}  // namespace

TimingStats time_repeated(const TimedBody& body, const TimingOptions& options, const std::atomic<bool>* cancel) {
  return time_interleaved({body}, options, cancel).stats.front();
}

InterleavedTiming time_interleaved(const std::vector<TimedBody>& bodies, const TimingOptions& options,
                                   const std::atomic<bool>* cancel) {
  using Clock = std::chrono::steady_clock;
  auto check_cancel = [&] {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
  };
  const std::size_t count = bodies.size();
  std::vector<int> next_repetition(count, 0);  // each body's own count: it picks the body's rotated copy
  auto call = [&](std::size_t index) {
    check_cancel();
    const auto before = Clock::now();
    bodies[index](next_repetition[index]++);
    return std::chrono::duration<double, std::micro>(Clock::now() - before).count();
  };
  // The fastest warm-up call of each body sizes the rounds: a warm-up call that lost the core to a neighbour must
  // not make a body look slower than it is.
  std::vector<double> fastest_warm_us(count, 0);
  for (int warm = 0; warm < options.warmup; ++warm)
    for (std::size_t index = 0; index < count; ++index) {
      const double spent = call(index);
      fastest_warm_us[index] = warm == 0 ? spent : std::min(fastest_warm_us[index], spent);
    }
  // Balanced rounds: a body much faster than the slowest is called several times in a row, so that within a round
  // every body spends about the same wall time and a burst of load (a scheduler time slice lost to a neighbour)
  // falls on each alike. Its sample is the mean of those calls.
  std::vector<int> calls_per_round(count, 1);
  if (count > 1) {
    const double slowest = *std::max_element(fastest_warm_us.begin(), fastest_warm_us.end());
    for (std::size_t index = 0; index < count; ++index)
      if (fastest_warm_us[index] > 0)
        calls_per_round[index] = int(std::clamp(std::round(slowest / fastest_warm_us[index]), 1.0, 64.0));
  }
  std::vector<std::vector<double>> samples_us(count);
  const double budget = options.target_seconds * double(count);
  const auto start = Clock::now();
  for (int round = 0; round < options.max_repetitions; ++round) {
    // Rotating who goes first keeps a body from always following the same one (its caches, its clock boost).
    for (std::size_t turn = 0; turn < count; ++turn) {
      const std::size_t index = (turn + std::size_t(round)) % count;
      double total_us = 0;
      for (int repeat = 0; repeat < calls_per_round[index]; ++repeat) total_us += call(index);
      samples_us[index].push_back(total_us / calls_per_round[index]);
    }
    const double spent = std::chrono::duration<double>(Clock::now() - start).count();
    if (round + 1 >= options.min_repetitions && spent >= budget) break;
  }
  InterleavedTiming timing;
  for (std::size_t index = 0; index < count; ++index) {
    std::vector<double> ratios(samples_us[index].size());
    for (std::size_t round = 0; round < ratios.size(); ++round)
      ratios[round] = samples_us[0][round] / std::max(samples_us[index][round], 1e-3);
    timing.vs_first.push_back(ratio_stats(std::move(ratios)));
    timing.stats.push_back(stats_of(samples_us[index]));  // a copy: samples_us[0] serves every later ratio
    timing.calls_per_round.push_back(calls_per_round[index]);
  }
  return timing;
}

int rotation_copies(std::size_t bytes_per_copy) {
  constexpr std::size_t kMaxCopies = 4096;
  if (bytes_per_copy == 0) return 1;
  // One copy more than fits in the last-level cache: cycling through them in order, LRU evicts each copy before
  // it comes round again.
  const std::size_t needed = last_level_cache_bytes() / bytes_per_copy + 2;
  return int(std::clamp<std::size_t>(needed, 1, kMaxCopies));
}

}  // namespace nmscope
