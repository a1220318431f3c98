#pragma once
// The command line's side of errors: an option the user typed that cannot be used (UsageError, exit 2 before any
// work), and core's settings said as the flags that set them (flag_of).
#include <string>

#include "nmscope/error.hpp"

namespace nmscope::cli {

// Bad usage found by the command line itself; the subject is the flag ("--threads").
class UsageError : public Error {
 public:
  using Error::Error;
};

// The flag that sets `setting` ("--pattern" for Setting::Pattern).
const char* flag_of(Setting setting);

}  // namespace nmscope::cli
