// Strong integer units for hardware models: sizes, bandwidths, energies (STYLE: no floating point
// in anything that reaches the results, so runs stay bit-identical).
//
//  Bytes         uint64 bytes.
//  Bandwidth     uint64 bytes per second; transferTime(n) is the exact serialization time of n
//                bytes in picoseconds, rounded up (128-bit intermediate).
//  EnergyPerBit  uint64 femtojoules per bit (3.48 pJ/bit == 3480 fJ/bit).
//  Energy        uint64 femtojoules; products and sums are overflow-checked (Error{InvalidConfig}
//                from energyOf, Error{Internal} from operator+).
//
// Parsers are exact decimal (like parseDuration): "64 KiB", "1.5 MB", "1.7 TB/s", "25 GB/s",
// "100 Gb/s" (bits), "3.48 pJ/bit". SI prefixes are decimal (1 GB = 1e9 B); Ki/Mi/Gi/Ti binary.
// A value that is not a whole number of the base unit, an unknown unit or an overflow throws
// Error{InvalidConfig} naming the text.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/statistics.h"
#include "sim/time.h"

namespace wafersim {
class StateWriter;
class StateReader;
}  // namespace wafersim

namespace wafersim::hw {

struct Bytes {
  uint64_t value = 0;
  constexpr auto operator<=>(const Bytes&) const = default;
  uint64_t bits() const;  // checked: throws Error{InvalidConfig} past 2^64 bits
};

struct Energy {
  uint64_t fj = 0;
  constexpr auto operator<=>(const Energy&) const = default;
  Energy operator+(Energy o) const;  // checked
};

struct EnergyPerBit {
  uint64_t fjPerBit = 0;
  constexpr auto operator<=>(const EnergyPerBit&) const = default;
  Energy of(Bytes bytes) const;  // bytes * 8 * fJ/bit, checked
};

struct Bandwidth {
  uint64_t bytesPerSecond = 0;
  constexpr auto operator<=>(const Bandwidth&) const = default;
  // ceil(bytes * 1e12 / bytesPerSecond) ps. A zero bandwidth or a result past int64 throws.
  Duration transferTime(Bytes bytes) const;
};

Bytes parseBytes(std::string_view text);
Bandwidth parseBandwidth(std::string_view text);
EnergyPerBit parseEnergyPerBit(std::string_view text);

// Exact renderings that the parsers read back: "65536 B", "25000000000 B/s", "3480 fJ/bit".
std::string toString(Bytes b);
std::string toString(Bandwidth b);
std::string toString(EnergyPerBit e);

// Accumulates exact femtojoules into a statistics counter in picojoules. A uint64 counter of fJ
// would overflow at 18.4 kJ, 26 simulated seconds of one H100-class die at full power; of pJ it
// lasts 1000 times longer. The remainder below 1 pJ is carried, so the counter is always
// floor(total fJ / 1000), exactly. Counter names: "energy_<category>_pj" (results.h sums them).
class EnergyMeter {
 public:
  explicit EnergyMeter(Counter& pj) : pj_(pj) {}
  void add(Energy e) {
    const uint64_t fj = remainderFj_ + e.fj % 1000;
    pj_.add(e.fj / 1000 + fj / 1000);
    remainderFj_ = fj % 1000;
  }
  // Checkpoints: the femtojoules not yet in the counter (the counter is the StatSet's).
  void save(StateWriter& out) const;
  void restore(StateReader& in);

 private:
  Counter& pj_;
  uint64_t remainderFj_ = 0;
};

inline namespace literals {
constexpr Bytes operator""_B(unsigned long long v) { return Bytes{v}; }
constexpr Bytes operator""_KiB(unsigned long long v) { return Bytes{v * 1024}; }
constexpr Bandwidth operator""_GBps(unsigned long long v) { return Bandwidth{v * 1'000'000'000ull}; }
constexpr EnergyPerBit operator""_fJpb(unsigned long long v) { return EnergyPerBit{v}; }
}  // namespace literals

}  // namespace wafersim::hw
