#pragma once
// One error type for everything a user can get wrong: its message is the one line the CLI prints and the GUI shows,
// "<subject>: <reason>", where subject names the file, tensor or option at fault.
#include <stdexcept>
#include <string>

namespace nmscope {

class Error : public std::runtime_error {
 public:
  Error(const std::string& subject, const std::string& reason)
      : std::runtime_error(subject.empty() ? reason : subject + ": " + reason), subject_(subject), reason_(reason) {}

  const std::string& subject() const noexcept { return subject_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string subject_;
  std::string reason_;
};

// Thrown when a cooperative cancellation flag was seen; never a user error.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace nmscope
