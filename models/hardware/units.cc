#include "models/hardware/units.h"

#include <array>
#include <cctype>
#include <limits>
#include <utility>

#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

using u128 = unsigned __int128;

// An exact decimal number followed by a unit: mantissa / 10^fractionDigits.
struct Decimal {
  u128 mantissa = 0;
  int fractionDigits = 0;
  std::string_view unit;
};

[[noreturn]] void bad(std::string_view what, std::string_view text, std::string_view why) {
  fail(ErrorKind::InvalidConfig, "bad ", what, " \"", text, "\": ", why);
}

Decimal parseDecimal(std::string_view what, std::string_view text) {
  size_t i = 0;
  auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (i < text.size() && isSpace(text[i])) ++i;
  if (i < text.size() && text[i] == '+') ++i;
  Decimal d;
  bool anyDigit = false, inFraction = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !inFraction) { inFraction = true; continue; }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    anyDigit = true;
    d.mantissa = d.mantissa * 10 + static_cast<unsigned>(c - '0');
    if (inFraction) ++d.fractionDigits;
    if (d.mantissa > (static_cast<u128>(1) << 80)) bad(what, text, "too large");
  }
  if (!anyDigit) bad(what, text, "expected a non-negative number followed by a unit");
  while (i < text.size() && isSpace(text[i])) ++i;
  d.unit = text.substr(i);
  while (!d.unit.empty() && isSpace(d.unit.back())) d.unit.remove_suffix(1);
  return d;
}

// mantissa * scale / 10^fractionDigits, which must be a whole number that fits in 64 bits.
uint64_t scaleExact(std::string_view what, std::string_view text, const Decimal& d, u128 scale, u128 divisor,
                    std::string_view finerThan) {
  u128 value = 0;
  if (__builtin_mul_overflow(d.mantissa, scale, &value)) bad(what, text, "too large");
  for (int k = 0; k < d.fractionDigits; ++k) divisor *= 10;  // at most ~25 digits fit the mantissa
  if (value % divisor != 0) bad(what, text, finerThan);
  value /= divisor;
  if (value > std::numeric_limits<uint64_t>::max()) bad(what, text, "too large for 64 bits");
  return static_cast<uint64_t>(value);
}

struct Unit {
  std::string_view name;
  uint64_t scale;    // in the base unit, times divisor
  uint64_t divisor;  // for units smaller than the base unit (bits)
};

constexpr uint64_t kK = 1000, kM = kK * kK, kG = kM * kK, kT = kG * kK, kP = kT * kK;

uint64_t parseWithUnits(std::string_view what, std::string_view text, const Unit* units, size_t count,
                        std::string_view known, std::string_view finerThan) {
  const Decimal d = parseDecimal(what, text);
  for (size_t u = 0; u < count; ++u)
    if (d.unit == units[u].name) return scaleExact(what, text, d, units[u].scale, units[u].divisor, finerThan);
  if (d.unit.empty()) bad(what, text, std::string("missing unit (") + std::string(known) + ")");
  bad(what, text, std::string("unknown unit \"") + std::string(d.unit) + "\" (" + std::string(known) + ")");
}

}  // namespace

uint64_t Bytes::bits() const {
  uint64_t r = 0;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(value, uint64_t{8}, &r), "byte count ", value, " overflows bits");
  return r;
}

Energy Energy::operator+(Energy o) const {
  Energy r;
  WAFERSIM_ASSERT(!__builtin_add_overflow(fj, o.fj, &r.fj), "energy overflow: ", fj, " + ", o.fj, " fJ");
  return r;
}

Energy EnergyPerBit::of(Bytes bytes) const {
  Energy r;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(bytes.bits(), fjPerBit, &r.fj), "energy of ", bytes.value,
                   " bytes at ", fjPerBit, " fJ/bit overflows 64-bit femtojoules");
  return r;
}

Duration Bandwidth::transferTime(Bytes bytes) const {
  WAFERSIM_REQUIRE(bytesPerSecond != 0, "transfer over a zero bandwidth");
  const u128 num = static_cast<u128>(bytes.value) * 1'000'000'000'000ull;  // < 2^104
  const u128 ps = (num + bytesPerSecond - 1) / bytesPerSecond;
  WAFERSIM_REQUIRE(ps <= static_cast<u128>(std::numeric_limits<int64_t>::max()), "transfer of ", bytes.value,
                   " bytes at ", bytesPerSecond, " B/s exceeds 64-bit picoseconds");
  return Duration::fromPs(static_cast<int64_t>(ps));
}

Bytes parseBytes(std::string_view text) {
  static constexpr Unit kUnits[] = {{"B", 1, 1},          {"kB", kK, 1},        {"KB", kK, 1},
                                    {"MB", kM, 1},        {"GB", kG, 1},        {"TB", kT, 1},
                                    {"KiB", 1ull << 10, 1}, {"MiB", 1ull << 20, 1}, {"GiB", 1ull << 30, 1},
                                    {"TiB", 1ull << 40, 1}};
  return Bytes{parseWithUnits("size", text, kUnits, std::size(kUnits), "B, kB, MB, GB, TB, KiB, MiB, GiB, TiB",
                              "not a whole number of bytes")};
}

Bandwidth parseBandwidth(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"B/s", 1, 1},   {"kB/s", kK, 1}, {"KB/s", kK, 1}, {"MB/s", kM, 1}, {"GB/s", kG, 1},
      {"TB/s", kT, 1}, {"PB/s", kP, 1}, {"KiB/s", 1ull << 10, 1}, {"MiB/s", 1ull << 20, 1},
      {"GiB/s", 1ull << 30, 1}, {"b/s", 1, 8}, {"kb/s", kK, 8}, {"Kb/s", kK, 8}, {"Mb/s", kM, 8},
      {"Gb/s", kG, 8}, {"Tb/s", kT, 8}};
  return Bandwidth{parseWithUnits("bandwidth", text, kUnits, std::size(kUnits),
                                  "B/s, kB/s, MB/s, GB/s, TB/s, PB/s, KiB/s, MiB/s, GiB/s, b/s, kb/s, Mb/s, Gb/s, Tb/s",
                                  "not a whole number of bytes per second")};
}

EnergyPerBit parseEnergyPerBit(std::string_view text) {
  static constexpr Unit kUnits[] = {{"fJ/bit", 1, 1}, {"pJ/bit", kK, 1}, {"nJ/bit", kM, 1}, {"uJ/bit", kG, 1}};
  return EnergyPerBit{parseWithUnits("energy per bit", text, kUnits, std::size(kUnits),
                                     "fJ/bit, pJ/bit, nJ/bit, uJ/bit", "finer than one femtojoule per bit")};
}

std::string toString(Bytes b) { return std::to_string(b.value) + " B"; }
std::string toString(Bandwidth b) { return std::to_string(b.bytesPerSecond) + " B/s"; }
std::string toString(EnergyPerBit e) { return std::to_string(e.fjPerBit) + " fJ/bit"; }

void EnergyMeter::save(StateWriter& out) const { out.u64(remainderFj_); }

void EnergyMeter::restore(StateReader& in) {
  remainderFj_ = in.u64();
  if (remainderFj_ >= 1000) in.corrupt("an energy remainder of " + std::to_string(remainderFj_) + " fJ");
}

}  // namespace wafersim::hw
