#pragma once
// One line per synthetic source of a command's figures, saying they come from synthetic weights and which statistics
// those follow (core's synthetic_weights_note), so a figure from a synth: spec is never read as a real model's.
#include <string>
#include <vector>

namespace nmscope::cli {

// To stdout, or to stderr when stdout carries JSON Lines. Nothing for sources that are not synth: specs.
void print_synthetic_notes(const std::vector<std::string>& sources, bool json);

}  // namespace nmscope::cli
