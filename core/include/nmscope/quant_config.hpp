#pragma once
// How kept weights are quantized (docs/conventions.md): b-bit integers with fp16 scales per tensor, per output
// channel or per group of g consecutive columns of the original (unpruned) K; symmetric or asymmetric;
// round half away from zero. bits == 16 means fp16 values with no integer grid and no scales.
#include <string>
#include <vector>

namespace nmscope {

enum class Granularity { Tensor, Channel, Group };

struct QuantConfig {
  int bits = 4;
  Granularity granularity = Granularity::Group;
  int group = 128;         // columns per scale, only for Granularity::Group
  bool symmetric = true;

  bool is_fp16() const { return bits == 16; }
  // "group:128", "channel", "tensor"; "none" for fp16.
  std::string granularity_name() const;
  // Throws SettingError(Bits / Group, reason) when bits are outside 2..8 and not 16, or the group is not positive.
  void validate() const;
  static std::vector<int> parse_bits_list(const std::string& comma_separated);
};

}  // namespace nmscope
