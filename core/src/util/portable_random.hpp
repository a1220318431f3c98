#pragma once
// A portable random stream (splitmix64 + Box-Muller): std::normal_distribution differs between standard libraries,
// and synthetic weights and activations must be the same bits on every machine for a seed.
#include <cmath>
#include <cstdint>

namespace nmscope {

class PortableRandom {
 public:
  explicit PortableRandom(uint64_t seed) : state_(seed) {}

  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): never 0, so log() is safe.
  double uniform() { return (double(next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 6.283185307179586 * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }
  double laplace() {
    const double u = uniform() - 0.5;
    return u < 0 ? std::log(1 + 2 * u) : -std::log(1 - 2 * u);
  }

 private:
  uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Independent streams per row: a row's values do not depend on how many threads generated the matrix.
inline uint64_t stream_seed(uint64_t seed, uint64_t stream) {
  PortableRandom mixer(seed ^ (stream * 0xD1B54A32D192ED03ULL));
  return mixer.next_u64();
}

}  // namespace nmscope
