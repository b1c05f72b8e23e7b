// Simulated time: 64-bit integer picoseconds (ARCHITECTURE.md, contract 1).
//
// SimTime is an instant, Duration an interval; they are distinct types so that adding two
// instants does not compile. Arithmetic saturates at SimTime::never() (the "no event" instant)
// instead of wrapping: int64 picoseconds cover about 106 days, and anything past that is never.
// No floating point ever enters these types; conversions from user text are exact decimal parses.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace wafersim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration fromPs(int64_t ps) { return Duration(ps); }
  static constexpr Duration max() { return Duration(std::numeric_limits<int64_t>::max()); }
  static constexpr Duration zero() { return Duration(0); }

  constexpr int64_t ps() const { return ps_; }

  constexpr auto operator<=>(const Duration&) const = default;

  constexpr Duration operator+(Duration o) const { return Duration(saturatingAdd(ps_, o.ps_)); }
  constexpr Duration operator-(Duration o) const { return Duration(saturatingAdd(ps_, -o.ps_)); }
  constexpr Duration operator*(int64_t k) const {
    int64_t r = 0;
    if (__builtin_mul_overflow(ps_, k, &r)) return (ps_ < 0) != (k < 0) ? Duration(kMin) : max();
    return Duration(r);
  }
  constexpr int64_t operator/(Duration o) const { return ps_ / o.ps_; }
  constexpr Duration& operator+=(Duration o) { return *this = *this + o; }

  static constexpr int64_t saturatingAdd(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? std::numeric_limits<int64_t>::max() : kMin;
    return r;
  }

 private:
  static constexpr int64_t kMin = std::numeric_limits<int64_t>::min() + 1;
  constexpr explicit Duration(int64_t ps) : ps_(ps) {}
  int64_t ps_ = 0;
};

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime fromPs(int64_t ps) { return SimTime(ps); }
  static constexpr SimTime zero() { return SimTime(0); }
  // The instant after every other: "no pending event", "no end time".
  static constexpr SimTime never() { return SimTime(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ps() const { return ps_; }
  constexpr bool isNever() const { return ps_ == std::numeric_limits<int64_t>::max(); }

  constexpr auto operator<=>(const SimTime&) const = default;

  // Saturating: never + d == never, and an overflow becomes never.
  constexpr SimTime operator+(Duration d) const {
    if (isNever()) return *this;
    return SimTime(Duration::saturatingAdd(ps_, d.ps()));
  }
  constexpr SimTime operator-(Duration d) const { return SimTime(Duration::saturatingAdd(ps_, -d.ps())); }
  constexpr Duration operator-(SimTime o) const { return Duration::fromPs(ps_) - Duration::fromPs(o.ps_); }
  constexpr SimTime& operator+=(Duration d) { return *this = *this + d; }

 private:
  constexpr explicit SimTime(int64_t ps) : ps_(ps) {}
  int64_t ps_ = 0;
};

constexpr SimTime min(SimTime a, SimTime b) { return a < b ? a : b; }
constexpr SimTime max(SimTime a, SimTime b) { return a < b ? b : a; }
constexpr Duration min(Duration a, Duration b) { return a < b ? a : b; }

inline namespace literals {
constexpr Duration operator""_ps(unsigned long long v) { return Duration::fromPs(static_cast<int64_t>(v)); }
constexpr Duration operator""_ns(unsigned long long v) { return Duration::fromPs(static_cast<int64_t>(v) * 1'000); }
constexpr Duration operator""_us(unsigned long long v) { return Duration::fromPs(static_cast<int64_t>(v) * 1'000'000); }
constexpr Duration operator""_ms(unsigned long long v) {
  return Duration::fromPs(static_cast<int64_t>(v) * 1'000'000'000);
}
constexpr Duration operator""_s(unsigned long long v) {
  return Duration::fromPs(static_cast<int64_t>(v) * 1'000'000'000'000);
}
}  // namespace literals

// Parses "100 ns", "1.7ns", "0.25 us", "3 s", "42 ps" exactly (decimal arithmetic, no floating
// point). A value finer than a picosecond, a missing or unknown unit, or an overflow throws
// Error{InvalidConfig} naming the text.
Duration parseDuration(std::string_view text);

// "1.5 ns", "100 ps", "never": the shortest exact rendering in the largest unit that keeps it exact
// to three decimals, else picoseconds.
std::string toString(Duration d);
std::string toString(SimTime t);

}  // namespace wafersim
