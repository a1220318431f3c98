#pragma once
// The synthetic weight generator: a source spelled "synth:SHAPES[:dist=D][:seed=S]" where SHAPES is
// "4096x11008" or several joined by '+', a preset name ("llama-7b-block": q/k/v/o/gate/up/down of one LLaMA-7B
// block), or a model shape preset ("llama-7b": every linear layer of the model, see model_preset.hpp; its own
// distribution and seed unless the spec names others). D is normal | laplace | llm (fitted to real checkpoints' weight
// statistics per role: see synthetic_source.cpp) | outlier-channels (0.5% of input channels 8-30x larger in every
// layer: weights into which activation outliers were migrated, SmoothQuant-style). Same spec, same bits, on every
// machine.
#include <memory>
#include <string>

#include "nmscope/weight_source.hpp"

namespace nmscope {

// Opens any source kind: a "synth:..." spec here, anything else with open_weight_file (weight_source.hpp). Throws
// Error(location, reason) on anything it cannot use.
std::unique_ptr<WeightSource> open_weight_source(const std::string& location);
// What a synthetic source's figures stand for, for every place they are shown (CLI, app, PDF): "synthetic weights
// (dist=llm: ...); a model file or directory gives real figures". Empty for anything that is not a synth: spec; a
// malformed spec is described by its text alone.
std::string synthetic_weights_note(const std::string& location);
// Throws Error(spec, reason) on a malformed spec.
std::unique_ptr<WeightSource> open_synthetic_source(const std::string& spec);

}  // namespace nmscope
