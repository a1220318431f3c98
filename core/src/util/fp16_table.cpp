#include <array>
#include <memory>

#include "nmscope/half.hpp"
#include "nmscope/kernels/fp16.hpp"

namespace nmscope {


const float* fp16_to_fp32_table() {
  static const std::unique_ptr<std::array<float, 65536>> table = [] {
    auto values = std::make_unique<std::array<float, 65536>>();
    for (uint32_t bits = 0; bits < 65536; ++bits) (*values)[bits] = fp16_bits_to_float_exact(static_cast<uint16_t>(bits));
    return values;
  }();
  return table->data();
}

}  // namespace nmscope
