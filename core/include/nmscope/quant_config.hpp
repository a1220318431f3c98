#pragma once
// How kept weights are quantized (docs/conventions.md): b-bit integers with fp16 scales per tensor, per output
// channel or per group of g consecutive columns of the original (unpruned) K; symmetric or asymmetric;
// round half away from zero. bits == 16 means fp16 values with no integer grid and no scales.
#include <compare>
#include <string>
#include <vector>

namespace nmscope {

enum class Granularity { Tensor, Channel, Group };

struct QuantConfig {
  int bits = 4;
  Granularity granularity = Granularity::Group;
  int group = 128;         // columns per scale, only for Granularity::Group
  bool symmetric = true;

  // fp16 values: no integer grid, no scales.
  static QuantConfig fp16() { return {16, Granularity::Tensor, 0, true}; }

  bool is_fp16() const { return bits == 16; }
  // The same configuration with the fields that do not apply cleared (the group of a per-channel or per-tensor grid,
  // the grid of fp16), so two configurations that quantize alike compare equal.
  QuantConfig canonical() const;
  // "int4", ..., "fp16": the width as tables and labels name it.
  std::string bits_name() const { return is_fp16() ? "fp16" : "int" + std::to_string(bits); }
  // "group:128", "channel", "tensor"; "none" for fp16.
  std::string granularity_name() const;
  // Throws SettingError(Bits / Group, reason) when bits are outside 2..8 and not 16, or the group is not positive.
  void validate() const;
  static std::vector<int> parse_bits_list(const std::string& comma_separated);
  // The inverse of granularity_name() for a given width: "group:G", "channel", "tensor" ("none" for fp16). Throws
  // SettingError(Granularity, reason) for anything else.
  static QuantConfig from_names(int bits, const std::string& granularity, bool symmetric);

  friend auto operator<=>(const QuantConfig&, const QuantConfig&) = default;
};

}  // namespace nmscope
