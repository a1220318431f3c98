#pragma once
// Ctrl-C (SIGINT) and SIGTERM as a request to stop, for the verbs that take a while: while an InterruptScope lives,
// the signals set a flag that the work polls at its safe points, instead of killing the process with a database
// write or a subprocess half done. The verb then says "cancelled; N ... stored" and exits 130, as a shell expects
// of an interrupted command.
#include <atomic>

namespace nmscope::cli {

// The exit status of an interrupted command (128 + SIGINT).
inline constexpr int kInterruptedExit = 130;

class InterruptScope {
 public:
  InterruptScope();   // installs the handlers and clears the flag
  ~InterruptScope();  // restores the default handlers
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // The flag the work polls (study runners, model evaluation take it as their cancel argument).
  const std::atomic<bool>* flag() const;
  bool interrupted() const;
};

}  // namespace nmscope::cli
