#include "synthetic_notes.hpp"

#include <iostream>
#include <set>

#include "nmscope/synthetic.hpp"

namespace nmscope::cli {

void print_synthetic_notes(const std::vector<std::string>& sources) {
  std::set<std::string> printed;
  for (const std::string& source : sources) {
    const std::string note = synthetic_weights_note(source);
    if (note.empty() || !printed.insert(note).second) continue;
    std::cout << "note: " << note << "\n";
  }
}

}  // namespace nmscope::cli
