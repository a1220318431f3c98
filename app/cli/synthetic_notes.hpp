#pragma once
// One line per synthetic source of a command's figures, saying they come from synthetic weights and which statistics
// those follow (core's synthetic_weights_note), so a figure from a synth: spec is never read as a real model's.
#include <string>
#include <vector>

namespace nmscope::cli {

// To stdout, after the table they describe (JSON output names its synth: sources in its own fields). Nothing for
// sources that are not synth: specs.
void print_synthetic_notes(const std::vector<std::string>& sources);

}  // namespace nmscope::cli
