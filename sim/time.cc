#include "sim/time.h"

#include <array>
#include <cctype>
#include <utility>

#include "sim/error.h"

namespace wafersim {
namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 5> kUnits{{
    {"ps", 1}, {"ns", 1'000}, {"us", 1'000'000}, {"ms", 1'000'000'000}, {"s", 1'000'000'000'000}}};

[[noreturn]] void badDuration(std::string_view text, std::string_view why) {
  fail(ErrorKind::InvalidConfig, "bad duration \"", text, "\": ", why);
}

}  // namespace

Duration parseDuration(std::string_view text) {
  size_t i = 0;
  auto skipSpace = [&] { while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i; };
  skipSpace();
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  // Integer and fractional digits, kept as an exact decimal mantissa with a count of fraction digits.
  __int128 mantissa = 0;
  int fractionDigits = 0;
  bool anyDigit = false, inFraction = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !inFraction) { inFraction = true; continue; }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    anyDigit = true;
    mantissa = mantissa * 10 + (c - '0');
    if (inFraction) ++fractionDigits;
    if (mantissa > (static_cast<__int128>(1) << 100)) badDuration(text, "too large");
  }
  if (!anyDigit) badDuration(text, "expected a number followed by a unit (ps, ns, us, ms, s)");
  skipSpace();
  std::string_view unit = text.substr(i);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.remove_suffix(1);
  int64_t scale = 0;
  for (auto [name, ps] : kUnits)
    if (unit == name) scale = ps;
  if (scale == 0) {
    if (unit.empty()) badDuration(text, "missing unit (ps, ns, us, ms, s)");
    badDuration(text, "unknown unit \"" + std::string(unit) + "\" (ps, ns, us, ms, s)");
  }
  // mantissa (up to 2^100) times scale (up to 10^12) can overflow 128 bits: check, do not wrap.
  __int128 value = 0;
  if (__builtin_mul_overflow(mantissa, static_cast<__int128>(scale), &value))
    badDuration(text, "too large for 64-bit picoseconds");
  for (int k = 0; k < fractionDigits; ++k) {
    if (value % 10 != 0) badDuration(text, "finer than one picosecond");
    value /= 10;
  }
  if (value > std::numeric_limits<int64_t>::max()) badDuration(text, "too large for 64-bit picoseconds");
  return Duration::fromPs(static_cast<int64_t>(negative ? -value : value));
}

std::string toString(Duration d) {
  if (d == Duration::max()) return "never";
  int64_t ps = d.ps();
  std::string sign = ps < 0 ? "-" : "";
  uint64_t magnitude = ps < 0 ? -static_cast<uint64_t>(ps) : static_cast<uint64_t>(ps);
  for (size_t u = kUnits.size(); u-- > 1;) {
    uint64_t scale = static_cast<uint64_t>(kUnits[u].second);
    if (magnitude < scale || (magnitude * 1000) % scale != 0 || magnitude > UINT64_MAX / 1000) continue;
    uint64_t whole = magnitude / scale, frac = (magnitude % scale) * 1000 / scale;
    std::string out = sign + std::to_string(whole);
    if (frac != 0) {
      std::string digits = std::to_string(frac);
      digits.insert(0, 3 - digits.size(), '0');
      while (digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    return out + " " + std::string(kUnits[u].first);
  }
  return sign + std::to_string(magnitude) + " ps";
}

std::string toString(SimTime t) { return t.isNever() ? "never" : toString(Duration::fromPs(t.ps())); }

}  // namespace wafersim
