#include "nmscope/engine.hpp"

namespace nmscope {

EngineOutput run_prepared(const Engine& engine, const EngineInput& input) {
  const std::unique_ptr<PreparedJob> job = engine.prepare(input);
  const TimingStats time = time_repeated([&](int repetition) { job->call(repetition); }, input.timing, input.cancel);
  return job->finish(time);
}

}  // namespace nmscope
