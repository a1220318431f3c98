// hash_bytes / hash_to_hex: identify a layer's stored bytes in the results database. Not cryptographic.
// The bytes are cut into fixed 1 MiB chunks hashed in parallel and folded in chunk order, so the value depends only
// on the bytes, never on the number of threads. Each chunk uses the xxHash64 round (four independent lanes, 8 bytes
// per lane per step) so the multiply latency overlaps and one core hashes at memory speed.
#include <tbb/parallel_for.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <vector>

#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

uint64_t load64(const std::byte* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

uint64_t round_step(uint64_t accumulator, uint64_t input) {
  accumulator += input * kPrime2;
  accumulator = std::rotl(accumulator, 31);
  return accumulator * kPrime1;
}

uint64_t merge_lane(uint64_t hash, uint64_t lane) {
  hash ^= round_step(0, lane);
  return hash * kPrime1 + kPrime4;
}

uint64_t avalanche(uint64_t hash) {
  hash ^= hash >> 33;
  hash *= kPrime2;
  hash ^= hash >> 29;
  hash *= kPrime3;
  hash ^= hash >> 32;
  return hash;
}

uint64_t hash_chunk(const std::byte* p, std::size_t length, uint64_t seed) {
  const std::byte* const end = p + length;
  uint64_t hash;
  if (length >= 32) {
    uint64_t lane1 = seed + kPrime1 + kPrime2, lane2 = seed + kPrime2, lane3 = seed, lane4 = seed - kPrime1;
    for (; end - p >= 32; p += 32) {
      lane1 = round_step(lane1, load64(p));
      lane2 = round_step(lane2, load64(p + 8));
      lane3 = round_step(lane3, load64(p + 16));
      lane4 = round_step(lane4, load64(p + 24));
    }
    hash = std::rotl(lane1, 1) + std::rotl(lane2, 7) + std::rotl(lane3, 12) + std::rotl(lane4, 18);
    hash = merge_lane(merge_lane(merge_lane(merge_lane(hash, lane1), lane2), lane3), lane4);
  } else {
    hash = seed + kPrime5;
  }
  hash += length;
  for (; end - p >= 8; p += 8) hash = std::rotl(hash ^ round_step(0, load64(p)), 27) * kPrime1 + kPrime4;
  if (p < end) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, static_cast<std::size_t>(end - p));
    hash = std::rotl(hash ^ round_step(0, tail), 27) * kPrime1 + kPrime4;
  }
  return avalanche(hash);
}

}  // namespace

uint64_t hash_bytes(std::span<const std::byte> bytes) {
  const std::size_t chunk_count = bytes.size() / kChunkBytes + 1;
  if (chunk_count == 1) return hash_chunk(bytes.data(), bytes.size(), 0);
  std::vector<uint64_t> chunk_hashes(chunk_count);
  tbb::parallel_for(std::size_t{0}, chunk_count, [&](std::size_t chunk) {
    const std::size_t begin = chunk * kChunkBytes;
    const std::size_t length = std::min(kChunkBytes, bytes.size() - begin);
    chunk_hashes[chunk] = hash_chunk(bytes.data() + begin, length, chunk);
  });
  uint64_t hash = kPrime5 + bytes.size();
  for (uint64_t chunk_hash : chunk_hashes) hash = merge_lane(hash, chunk_hash);
  return avalanche(hash);
}

std::string hash_to_hex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace nmscope
