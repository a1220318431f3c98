#include "interrupt_scope.hpp"

#include <csignal>

namespace nmscope::cli {

namespace {

std::atomic<bool> requested{false};

extern "C" void on_stop_signal(int) { requested.store(true); }

}  // namespace

InterruptScope::InterruptScope() {
  requested.store(false);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

InterruptScope::~InterruptScope() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

const std::atomic<bool>* InterruptScope::flag() const { return &requested; }

bool InterruptScope::interrupted() const { return requested.load(); }

}  // namespace nmscope::cli
