#include "nmscope/memory_bandwidth.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nmscope/host_info.hpp"
#include "nmscope/timing.hpp"

namespace nmscope {

BandwidthFigures measure_read_bandwidth(const std::atomic<bool>* cancel) {
  // Four times the last-level cache, at least 256 MiB: no repetition finds its data in cache.
  const size_t bytes = std::max<size_t>(size_t(256) << 20, 4 * last_level_cache_bytes());
  std::vector<uint64_t> buffer(bytes / sizeof(uint64_t));
  for (size_t index = 0; index < buffer.size(); ++index) buffer[index] = index;
  volatile uint64_t sink = 0;
  TimingOptions options;
  options.warmup = 1;
  options.min_repetitions = 5;
  options.max_repetitions = 20;
  options.target_seconds = 0.5;
  const TimingStats stats = time_repeated(
      [&](int) {
        // Sums in 8 independent lanes per thread so the adds never limit the loads.
        sink = sink + tbb::parallel_reduce(
                          tbb::blocked_range<size_t>(0, buffer.size(), size_t(1) << 16), uint64_t{0},
                          [&](const auto& range, uint64_t total) {
                            uint64_t lanes[8] = {};
                            size_t index = range.begin();
                            for (; index + 8 <= range.end(); index += 8)
                              for (int lane = 0; lane < 8; ++lane) lanes[lane] += buffer[index + size_t(lane)];
                            for (; index < range.end(); ++index) lanes[0] += buffer[index];
                            for (uint64_t lane : lanes) total += lane;
                            return total;
                          },
                          [](uint64_t a, uint64_t b) { return a + b; });
      },
      options, cancel);
  BandwidthFigures figures;
  figures.read_gb_per_s = double(bytes) / (stats.median_us * 1e3);
  figures.buffer_mb = double(bytes) / (1 << 20);
  figures.threads = tbb::this_task_arena::max_concurrency();
  return figures;
}

}  // namespace nmscope
