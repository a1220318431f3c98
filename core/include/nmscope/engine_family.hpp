#pragma once
// What every engine of a family shares, written once: which dense engine its variants are quoted against, what it
// measures, where a batch stops being memory-bound. A variant's name is "family/design-point" in the database and
// the CLI; engine_family() is the one place that reads the family back from a name, so rows of engines this build
// lacks (an fpga/systolic-8x8 of another run, a gpu/ row opened without CUDA) are still placed in their family.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nmscope/nm_pattern.hpp"

namespace nmscope {

enum class EngineFamily { Cpu, Gpu, Fpga };

struct EngineFamilyTraits {
  EngineFamily family;
  std::string name;  // "cpu", "gpu", "fpga": the prefix of its variants' names
  // The dense library its variants' speedups are quoted against; empty when a variant is compared with its own dense
  // configuration instead (the FPGA array: cycles of the same array running the layer dense).
  std::string dense_baseline;
  // Further baselines timed in the same run and quoted beside the first (the vendor's 2:4 library on the GPU).
  std::vector<std::string> further_baselines;
  // Those of them that run the layer dense (oneDNN on the CPU; not cuSPARSELt's 2:4): with the dense baseline, the
  // candidates for the strongest dense baseline a speedup is finally quoted against.
  std::vector<std::string> dense_alternatives;
  bool counts_cycles = false;  // cycles at a clock (simulated) rather than timed
  // From this batch on a matmul reuses each weight for so many rows that compute, not weight bytes, sets its time:
  // where fewer bytes stop paying (16 on CPUs, whose SIMD width runs out first; 64 on the GPU's tensor cores).
  int compute_bound_batch = 16;
};

const EngineFamilyTraits& family_traits(EngineFamily family);
const std::vector<EngineFamilyTraits>& all_family_traits();

// The family a variant name belongs to ("gpu/int4-2:4" -> Gpu); nullopt for "none" or an unknown prefix.
std::optional<EngineFamily> engine_family(const std::string& engine);
bool is_engine_of(EngineFamily family, const std::string& engine);

// The engine `engine`'s speedup is named against: its family's dense library, or itself (its own dense
// configuration) when the family has none; `engine` itself for an unknown name.
std::string dense_baseline_engine(const std::string& engine);
// True when `engine` is compared with the dense configuration of the same engine rather than with another engine.
bool baseline_is_dense_configuration(const std::string& engine);
// True for an engine of a family that counts simulated cycles instead of timing.
bool family_counts_cycles(const std::string& engine);
// The further baselines of `engine`'s family (empty for most).
const std::vector<std::string>& further_baselines_of(const std::string& engine);

// Every dense engine `engine` may be quoted against: its family's dense baseline first, then the family's dense
// alternatives (cpu/eigen-fp32-dense, cpu/onednn-bf16-dense). Empty for a family compared with its own dense
// configuration (fpga) and for an unknown name.
std::vector<std::string> dense_baselines_of(const std::string& engine);

// The strongest dense baseline of a measurement: of the dense baselines timed for the same layer, configuration and
// batch, the fastest, which is the library a user would run instead. `time_of` gives a baseline's time, or nullopt
// where it was not measured; nullopt when none was.
struct StrongestBaseline {
  std::string engine;
  double time_us = 0;
};
std::optional<StrongestBaseline> strongest_dense_baseline(
    const std::string& engine, const std::function<std::optional<double>(const std::string&)>& time_of);

// The weight widths nmscope's packed kernels are built for, on every family that has them (cpu/, gpu/ int{b}-...),
// in the order their variants are listed.
const std::vector<int>& packed_kernel_bits();

// What a packed variant's name spells: "gpu/int4-2:4" -> {Gpu, 4, 2:4}. The decoders take any N:M in the name
// ("cpu/int4-3:4"), the registry's general variant is "-nm" (no pattern: nullopt here). nullopt for other names.
struct PackedVariantName {
  EngineFamily family;
  int bits = 0;
  NMPattern pattern;
};
std::optional<PackedVariantName> packed_variant_name(const std::string& engine);

}  // namespace nmscope
