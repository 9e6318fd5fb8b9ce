// A Bloom filter over 64-bit hashes: two probes into a power-of-two bit array. It answers
// "certainly not in the set" from memory small enough to stay in cache, in front of an exact
// lookup that is dearer (a hash map, a lowercase copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cqda::anonymize {

class BloomFilter {
 public:
  explicit BloomFilter(unsigned log2_bits = 16) : mask_((std::uint64_t{1} << log2_bits) - 1), bits_((mask_ >> 6) + 1) {}

  void add(std::uint64_t hash) {
    const auto [a, b] = probes(hash);
    bits_[a >> 6] |= std::uint64_t{1} << (a & 63);
    bits_[b >> 6] |= std::uint64_t{1} << (b & 63);
  }
  // False: `hash` was never added. True: it may have been.
  bool maybe(std::uint64_t hash) const {
    const auto [a, b] = probes(hash);
    return (bits_[a >> 6] >> (a & 63) & 1) && (bits_[b >> 6] >> (b & 63) & 1);
  }

 private:
  struct Probes {
    std::uint64_t a, b;
  };
  Probes probes(std::uint64_t hash) const {
    // The second probe from a multiplicative remix of the same hash.
    return {hash & mask_, ((hash * 0x9E3779B97F4A7C15ull) >> 40) & mask_};
  }

  std::uint64_t mask_;
  std::vector<std::uint64_t> bits_;
};

}  // namespace cqda::anonymize
