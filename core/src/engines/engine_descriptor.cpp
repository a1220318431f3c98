#include "nmscope/engine_descriptor.hpp"

#include <algorithm>

namespace nmscope {

namespace {

std::string pattern_list(const std::vector<NMPattern>& patterns) {
  std::string text;
  for (const NMPattern& pattern : patterns) text += (text.empty() ? "" : ", ") + pattern.to_string();
  return text;
}

const char* granularity_word(Granularity granularity) {
  switch (granularity) {
    case Granularity::Tensor:
      return "tensor";
    case Granularity::Channel:
      return "channel";
    case Granularity::Group:
      return "group";
  }
  return "?";
}

}  // namespace

bool PatternSet::contains(const NMPattern& pattern) const {
  const NMPattern seen = unpruned_is_dense && pattern.keeps_everything() ? NMPattern::dense() : pattern;
  const bool listed = std::find(patterns.begin(), patterns.end(), seen) != patterns.end();
  switch (kind) {
    case Kind::Any:
      return true;
    case Kind::Only:
      return listed;
    case Kind::AllBut:
      return !listed;
  }
  return false;
}

std::string PatternSet::describe() const {
  switch (kind) {
    case Kind::Any:
      return "any N:M";
    case Kind::Only:
      return pattern_list(patterns);
    case Kind::AllBut:
      return "any N:M but " + pattern_list(patterns);
  }
  return "?";
}

bool EngineDescriptor::supports(const NMPattern& pattern, const QuantConfig& quant, std::string* reason) const {
  auto refuse = [&](const std::string& why) {
    if (reason) *reason = name + ": " + why;
    return false;
  };
  if (!bits.empty() && std::find(bits.begin(), bits.end(), quant.bits) == bits.end())
    return refuse("does not run " + quant.bits_name() + " weights");
  if (!patterns.contains(pattern)) {
    if (patterns.kind == PatternSet::Kind::AllBut) return refuse(pattern.to_string() + " has its own variant");
    return refuse("runs " + patterns.describe() + " only, not " + pattern.to_string());
  }
  if (!quant.is_fp16()) {
    if (!granularities.empty() &&
        std::find(granularities.begin(), granularities.end(), quant.granularity) == granularities.end())
      return refuse(std::string("does not take per-") + granularity_word(quant.granularity) + " scales");
    if (symmetric_only && !quant.symmetric) return refuse("symmetric quantization only");
  }
  return true;
}

std::string EngineDescriptor::baseline() const { return dense_baseline_engine(name); }

std::string EngineDescriptor::describe_support() const {
  std::string text;
  if (bits.empty()) {
    text = "any width";
  } else {
    for (int width : bits)
      text += (text.empty() ? "" : ", ") + QuantConfig{width, Granularity::Group, 0, true}.bits_name();
  }
  // A set the kernel limits by arithmetic is described by the limits alone.
  if (!(patterns.kind == PatternSet::Kind::Any && !limits.empty())) text += "; " + patterns.describe();
  if (!granularities.empty()) {
    std::string words;
    for (Granularity granularity : granularities)
      words += (words.empty() ? "" : ", ") + std::string(granularity_word(granularity));
    text += "; scales per " + words;
  }
  if (symmetric_only) text += "; symmetric";
  if (!limits.empty()) text += "; " + limits;
  return text;
}

}  // namespace nmscope
