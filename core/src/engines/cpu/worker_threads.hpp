#pragma once
// How many threads a CPU engine's parallel loop really uses: the task arena's concurrency, capped by the process's
// tbb::global_control limit (nmscope-cli --threads). The arena alone reports every core even under --threads 1,
// which is what the rows recorded before.
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>

namespace nmscope::engines {

inline int worker_threads() {
  const int arena = tbb::this_task_arena::max_concurrency();
  const auto limit = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  return std::max(1, std::min(arena, int(std::min<std::size_t>(limit, std::size_t(arena)))));
}

}  // namespace nmscope::engines
