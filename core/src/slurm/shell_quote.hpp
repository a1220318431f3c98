#pragma once
// A path as one word of a bash script, whatever characters it holds: single quotes, each ' written as '\''.
#include <string>

namespace nmscope {

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace nmscope
