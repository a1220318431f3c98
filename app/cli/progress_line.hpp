#pragma once
// The one progress line of a verb that takes a while, on a terminal:
//   [12/96] 0:14 elapsed, ~1:40 left  model.layers.0.mlp.up_proj.weight  2:4 int4  cpu/int4-2:4 b1
// redrawn in place at most ten times a second and cleared when the work ends, so the results printed on stdout and
// any message on stderr start on a line of their own. Not on a terminal (a log, a pipe, CI) or with --quiet it
// prints nothing: a file gets no carriage returns. Written once here instead of one loop per verb.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "nmscope/study.hpp"

namespace nmscope::cli {

class ProgressLine {
 public:
  // Shown when stderr is a terminal and `quiet` is false.
  explicit ProgressLine(bool quiet);
  ~ProgressLine();

  // `total` 0: the total is not known (no estimate of the time left).
  void update(int64_t done, int64_t total, const std::string& current);
  // A study observer's progress callback drawing this line.
  std::function<void(const StudyProgress&)> study_callback();
  // Clears the line (before a message, and at the end).
  void clear();
  bool shown() const { return shown_; }

  // "1:40", "1:02:03": for the line and for tests.
  static std::string clock(double seconds);

 private:
  bool shown_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace nmscope::cli
