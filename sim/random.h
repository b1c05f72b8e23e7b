// Seeded random streams whose output is bit-identical on every machine.
//
// Each component owns its own stream, derived from (run seed, global component id, stream
// number), so the numbers a component draws never depend on how the system is partitioned.
// Only correctly rounded IEEE operations (+ - * /) are used for real-valued draws; the logarithm is
// our own so that libm differences between machines cannot change a result (contract 2). The
// build disables floating-point contraction (-ffp-contract=off) for the same reason.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>

namespace wafersim {

// SplitMix64: used to expand a seed into independent generator states.
constexpr uint64_t splitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Natural logarithm of x in (0, 1], exact to about 1 ulp, from basic IEEE operations only.
double deterministicLog(double x);

// xoshiro256** (Blackman and Vigna): fast, 256-bit state, passes BigCrush.
class RandomStream {
 public:
  RandomStream(uint64_t seed, uint64_t componentId, uint64_t stream = 0) {
    uint64_t s = seed ^ (componentId * 0xD1B54A32D192ED03ull) ^ (stream * 0xABC98388FB8FAC03ull);
    for (auto& word : state_) word = splitMix64(s);
  }

  uint64_t next() {
    const uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), unbiased (Lemire's multiply-shift with rejection).
  uint64_t below(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  bool bernoulli(double p) { return uniform() < p; }

  // The generator's whole state, for checkpoints (checkpoint.h); a stream set to a saved state
  // continues with the same numbers.
  void saveState(uint64_t (&out)[4]) const { std::copy(state_, state_ + 4, out); }
  void restoreState(const uint64_t (&in)[4]) { std::copy(in, in + 4, state_); }

  // Exponentially distributed with the given mean, as a real number.
  double exponential(double mean) { return -mean * deterministicLog(1.0 - uniform()); }

 private:
  uint64_t state_[4];
};

}  // namespace wafersim
