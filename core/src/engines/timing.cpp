#include "nmscope/timing.hpp"

#include <algorithm>
#include <chrono>
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

}  // namespace

TimingStats time_repeated(const std::function<void(int)>& body, const TimingOptions& options,
                          const std::atomic<bool>* cancel) {
  using Clock = std::chrono::steady_clock;
  auto check_cancel = [&] {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
  };
  int repetition = 0;
  for (int warm = 0; warm < options.warmup; ++warm, ++repetition) {
    check_cancel();
    body(repetition);
  }
  std::vector<double> samples_us;
  const auto start = Clock::now();
  while (int(samples_us.size()) < options.max_repetitions) {
    check_cancel();
    const auto before = Clock::now();
    body(repetition++);
    const auto after = Clock::now();
    samples_us.push_back(std::chrono::duration<double, std::micro>(after - before).count());
    const double spent = std::chrono::duration<double>(after - start).count();
    if (int(samples_us.size()) >= options.min_repetitions && spent >= options.target_seconds) break;
  }
  std::sort(samples_us.begin(), samples_us.end());
  TimingStats stats;
  stats.median_us = percentile(samples_us, 0.5);
  stats.p10_us = percentile(samples_us, 0.1);
  stats.p90_us = percentile(samples_us, 0.9);
  stats.repetitions = int(samples_us.size());
  return stats;
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
