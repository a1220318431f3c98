// The option parsers of `nmscope-cli run`: --pattern (N:M list), --bits, --group (CLI11 reads the int, core validates
// it) and the shapes of a synth: weight spec. The same text goes to each; each result is checked against its
// documented range and round trip.
#include <CLI/TypeTools.hpp>

#include "fuzz_support.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/pruning.hpp"
#include "nmscope/quant_config.hpp"
#include "nmscope/synthetic.hpp"

namespace {

using namespace nmscope;

// Synthetic matrices are generated only up to this size: the spec allows 1048576 x 1048576.
constexpr int64_t kMaxGeneratedElements = int64_t{1} << 14;

void patterns(const std::string& text) {
  for (const NMPattern& pattern : NMPattern::parse_list(text)) {
    fuzz::check(1 <= pattern.kept_per_group && pattern.kept_per_group <= pattern.group_size &&
                pattern.group_size <= NMPattern::kMaxGroupSize);
    fuzz::check(NMPattern::parse(pattern.to_string()) == pattern);
    fuzz::check(pattern.metadata_bits() >= 0 && pattern.metadata_bits() <= 5);
  }
}

void bits(const std::string& text) {
  for (int value : QuantConfig::parse_bits_list(text)) fuzz::check(value == 16 || (value >= 2 && value <= 8));
}

void group(const std::string& text) {
  QuantConfig config;
  if (!CLI::detail::lexical_cast(text, config.group)) return;  // CLI11 reports this one itself
  config.validate();
  fuzz::check(config.group > 0);
  fuzz::check(config.granularity_name() == "group:" + std::to_string(config.group));
}

void synthetic(const std::string& text) {
  const auto source = open_synthetic_source("synth:" + text);
  for (const TensorInfo& info : source->tensors()) {
    fuzz::check(info.is_matrix && info.rows() >= 1 && info.cols() >= 1);
    source->tensor_hash(info.name);
    if (info.element_count() <= kMaxGeneratedElements) {
      const MatrixF weights = source->load_matrix(info.name);
      fuzz::check(weights.rows() == info.rows() && weights.cols() == info.cols());
    }
  }
}

template <typename Parse>
void refused_only_with_error(Parse parse, const std::string& text) {
  try {
    parse(text);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::single_threaded();
  const std::string text(reinterpret_cast<const char*>(data), size);
  refused_only_with_error(patterns, text);
  refused_only_with_error(bits, text);
  refused_only_with_error(group, text);
  refused_only_with_error([](const std::string& t) { parse_criterion(t); }, text);
  refused_only_with_error(synthetic, text);
  return 0;
}
