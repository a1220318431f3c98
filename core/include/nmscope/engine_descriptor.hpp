#pragma once
// What an engine variant is, written once beside its kernel: the family and device it runs on, which kernel runs,
// which configurations it takes, and whether it is a baseline. The registry, the study runner, bench, the rollups and
// the front ends read this instead of parsing a variant's name, and Engine::supports() applies it, so every engine
// refuses a configuration in the same words. Variant names ("cpu/int4-2:4") stay what the database and the CLI use.
#include <string>
#include <vector>

#include "nmscope/engine_family.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

namespace nmscope {

// The N:M patterns a variant runs: any, exactly the listed ones, or every pattern but the listed ones (a general
// variant beside fast-path siblings: the listed patterns are the siblings', so each pattern has one variant).
struct PatternSet {
  enum class Kind { Any, Only, AllBut };
  Kind kind = Kind::Any;
  std::vector<NMPattern> patterns;
  // N:N keeps every weight: true where the kernel runs it as dense (the GPU's tiles), false where N:N is a format
  // of its own (the CPU's packed slots).
  bool unpruned_is_dense = false;

  static PatternSet any() { return {}; }
  static PatternSet only(std::vector<NMPattern> patterns, bool unpruned_is_dense = false) {
    return {Kind::Only, std::move(patterns), unpruned_is_dense};
  }
  static PatternSet all_but(std::vector<NMPattern> patterns, bool unpruned_is_dense = false) {
    return {Kind::AllBut, std::move(patterns), unpruned_is_dense};
  }

  bool contains(const NMPattern& pattern) const;
  std::string describe() const;  // "any N:M", "2:4", "dense, 2:4", "any N:M but dense, 2:4"
};

struct EngineDescriptor {
  std::string name;  // the variant's name: "family/design-point"
  EngineFamily family = EngineFamily::Cpu;
  std::string kernel;  // what runs, e.g. "kernels::nm_gemm (AVX-512, AVX2 or scalar per format)"
  std::string device;  // "host CPU", "NVIDIA GPU", "simulated systolic array"
  // A dense library the family's variants are quoted against (EngineFamilyTraits); never a candidate itself.
  bool is_baseline = false;
  // What it takes; empty lists take every value.
  std::vector<int> bits;  // weight widths (16 = fp16)
  PatternSet patterns;
  std::vector<Granularity> granularities;  // scale granularities of integer widths
  bool symmetric_only = false;
  // The limits kernel_supports() checks by arithmetic rather than by list, in words for listings.
  std::string limits;

  // False, with a reason naming the variant, for a configuration outside the lists above.
  bool supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const;
  // The engine this variant's speedup is quoted against (dense_baseline_engine of its name).
  std::string baseline() const;
  // "4, 8 bits; 2:4; group, channel; symmetric" for listings.
  std::string describe_support() const;
};

}  // namespace nmscope
