#include "nmscope/engine_family.hpp"

#include <algorithm>

#include "nmscope/error.hpp"

namespace nmscope {

const std::vector<EngineFamilyTraits>& all_family_traits() {
  static const std::vector<EngineFamilyTraits> traits = {
      {EngineFamily::Cpu,
       "cpu",
       "cpu/eigen-fp32-dense",
       {"cpu/onednn-bf16-dense"},
       {"cpu/onednn-bf16-dense"},
       false,
       16},
      {EngineFamily::Gpu, "gpu", "gpu/cublas-fp16-dense", {"gpu/cusparselt-fp16-2:4"}, {}, false, 64},
      {EngineFamily::Fpga, "fpga", "", {}, {}, true, 16},
  };
  return traits;
}

const EngineFamilyTraits& family_traits(EngineFamily family) {
  const auto& traits = all_family_traits();
  return *std::find_if(traits.begin(), traits.end(), [&](const EngineFamilyTraits& t) { return t.family == family; });
}

std::optional<EngineFamily> engine_family(const std::string& engine) {
  const std::size_t slash = engine.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string prefix = engine.substr(0, slash);
  for (const auto& traits : all_family_traits())
    if (traits.name == prefix) return traits.family;
  return std::nullopt;
}

bool is_engine_of(EngineFamily family, const std::string& engine) { return engine_family(engine) == family; }

std::string dense_baseline_engine(const std::string& engine) {
  const auto family = engine_family(engine);
  if (!family) return engine;
  const std::string& baseline = family_traits(*family).dense_baseline;
  return baseline.empty() ? engine : baseline;
}

bool baseline_is_dense_configuration(const std::string& engine) {
  const auto family = engine_family(engine);
  return family && family_traits(*family).dense_baseline.empty();
}

bool family_counts_cycles(const std::string& engine) {
  const auto family = engine_family(engine);
  return family && family_traits(*family).counts_cycles;
}

const std::vector<std::string>& further_baselines_of(const std::string& engine) {
  static const std::vector<std::string> none;
  const auto family = engine_family(engine);
  return family ? family_traits(*family).further_baselines : none;
}

std::vector<std::string> dense_baselines_of(const std::string& engine) {
  const auto family = engine_family(engine);
  if (!family || family_traits(*family).dense_baseline.empty()) return {};
  const EngineFamilyTraits& traits = family_traits(*family);
  std::vector<std::string> baselines = {traits.dense_baseline};
  baselines.insert(baselines.end(), traits.dense_alternatives.begin(), traits.dense_alternatives.end());
  return baselines;
}

std::optional<StrongestBaseline> strongest_dense_baseline(
    const std::string& engine, const std::function<std::optional<double>(const std::string&)>& time_of) {
  std::optional<StrongestBaseline> strongest;
  for (const std::string& baseline : dense_baselines_of(engine)) {
    const std::optional<double> time = time_of(baseline);
    if (!time || !(*time > 0)) continue;
    if (!strongest || *time < strongest->time_us) strongest = StrongestBaseline{baseline, *time};
  }
  return strongest;
}

const std::vector<int>& packed_kernel_bits() {
  static const std::vector<int> bits = {4, 8, 2, 3};
  return bits;
}

std::optional<PackedVariantName> packed_variant_name(const std::string& engine) {
  const auto family = engine_family(engine);
  if (!family) return std::nullopt;
  const std::string prefix = family_traits(*family).name + "/int";
  const size_t dash = engine.find('-', prefix.size());
  if (engine.rfind(prefix, 0) != 0 || dash == std::string::npos) return std::nullopt;
  const std::string width = engine.substr(prefix.size(), dash - prefix.size());
  const auto& widths = packed_kernel_bits();
  const auto known =
      std::find_if(widths.begin(), widths.end(), [&](int bits) { return std::to_string(bits) == width; });
  if (known == widths.end()) return std::nullopt;
  try {
    return PackedVariantName{*family, *known, NMPattern::parse(engine.substr(dash + 1))};
  } catch (const SettingError&) {
    return std::nullopt;  // "-nm" or a spelling that is no pattern
  }
}

}  // namespace nmscope
