// SimTime and Duration: integer picoseconds, literals, saturation at never(), exact parsing and
// printing (sim/time.h).
#include "sim/time.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// The message of the Error{InvalidConfig} that parseDuration throws, or "" when it does not throw.
std::string parseError(const std::string& text) {
  try {
    parseDuration(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << text;
    return e.what();
  }
  return "";
}

TEST(TimeTest, LiteralsArePicoseconds) {
  EXPECT_EQ((1_ps).ps(), 1);
  EXPECT_EQ((1_ns).ps(), 1'000);
  EXPECT_EQ((1_us).ps(), 1'000'000);
  EXPECT_EQ((1_ms).ps(), 1'000'000'000);
  EXPECT_EQ((1_s).ps(), 1'000'000'000'000);
  EXPECT_EQ((7_ns).ps(), 7'000);
  EXPECT_EQ(Duration::zero().ps(), 0);
  EXPECT_EQ(Duration().ps(), 0);
  EXPECT_EQ(SimTime().ps(), 0);
  static_assert((3_us).ps() == 3'000'000, "literals are constexpr");
}

TEST(TimeTest, DurationArithmetic) {
  EXPECT_EQ(1_ns + 500_ps, Duration::fromPs(1500));
  EXPECT_EQ(1_ns - 1500_ps, Duration::fromPs(-500));
  EXPECT_EQ(250_ps * 4, 1_ns);
  EXPECT_EQ(250_ps * -4, Duration::fromPs(-1000));
  EXPECT_EQ(1_us / 250_ns, 4);
  EXPECT_EQ(1_us / 300_ns, 3);  // integer division, truncating
  Duration d = 1_ns;
  d += 2_ns;
  EXPECT_EQ(d, 3_ns);
  EXPECT_LT(999_ps, 1_ns);
  EXPECT_GT(1_us, 999_ns);
  EXPECT_EQ(min(3_ns, 2_ns), 2_ns);
}

TEST(TimeTest, DurationSaturates) {
  EXPECT_EQ(Duration::max() + 1_ps, Duration::max());
  EXPECT_EQ(Duration::max() + Duration::max(), Duration::max());
  EXPECT_EQ(Duration::max() * 2, Duration::max());
  EXPECT_EQ(Duration::fromPs(kMax / 2 + 1) * 2, Duration::max());
  // Negative overflow saturates at the most negative value, not at a wrapped positive one.
  EXPECT_LT(Duration::fromPs(-kMax) - 1_s, Duration::zero());
  EXPECT_LT(Duration::max() * -2, Duration::zero());
  EXPECT_LT(Duration::fromPs(-kMax / 2 - 1) * 2, Duration::zero());
}

TEST(TimeTest, SimTimeArithmetic) {
  const SimTime t = SimTime::zero() + 5_ns;
  EXPECT_EQ(t.ps(), 5'000);
  EXPECT_EQ(t + 250_ps, SimTime::fromPs(5'250));
  EXPECT_EQ(t - 1_ns, SimTime::fromPs(4'000));
  EXPECT_EQ(t - SimTime::fromPs(1'500), Duration::fromPs(3'500));
  EXPECT_EQ(SimTime::fromPs(1'500) - t, Duration::fromPs(-3'500));
  SimTime u = t;
  u += 1_us;
  EXPECT_EQ(u.ps(), 1'005'000);
  EXPECT_EQ(min(t, u), t);
  EXPECT_EQ(max(t, u), u);
  EXPECT_LT(t, u);
  EXPECT_FALSE(t.isNever());
}

TEST(TimeTest, NeverSaturates) {
  const SimTime never = SimTime::never();
  EXPECT_TRUE(never.isNever());
  EXPECT_EQ(never.ps(), kMax);
  EXPECT_EQ(never + 1_ps, never);
  EXPECT_EQ(never + 1_s, never);
  EXPECT_EQ(never + Duration::max(), never);
  EXPECT_EQ(never + Duration::zero(), never);
  // An overflow becomes never instead of wrapping into the past.
  EXPECT_EQ(SimTime::fromPs(kMax - 10) + 1_ns, never);
  EXPECT_EQ(SimTime::fromPs(kMax - 10) + 10_ps, never);
  EXPECT_EQ(SimTime::fromPs(kMax - 10) + 9_ps, SimTime::fromPs(kMax - 1));
  EXPECT_FALSE(SimTime::fromPs(kMax - 1).isNever());
  EXPECT_EQ(SimTime::zero() + Duration::max(), never);
  EXPECT_GT(never, SimTime::fromPs(kMax - 1));
  EXPECT_LT(SimTime::zero(), never);
}

TEST(TimeTest, ParseDurationExact) {
  EXPECT_EQ(parseDuration("100 ns"), 100_ns);
  EXPECT_EQ(parseDuration("42 ps"), 42_ps);
  EXPECT_EQ(parseDuration("3 s"), 3_s);
  EXPECT_EQ(parseDuration("2 ms"), 2_ms);
  EXPECT_EQ(parseDuration("0.25 us"), 250_ns);
  // The decimal is parsed exactly: 1.7 is not representable in binary floating point.
  EXPECT_EQ(parseDuration("1.7 ns").ps(), 1700);
  EXPECT_EQ(parseDuration("1.7ns").ps(), 1700);
  EXPECT_EQ(parseDuration("0.001 ns").ps(), 1);
  EXPECT_EQ(parseDuration("1.000 ps").ps(), 1);
  EXPECT_EQ(parseDuration("0.000000000001 s").ps(), 1);
  EXPECT_EQ(parseDuration("123456.789 us").ps(), 123'456'789'000);
  EXPECT_EQ(parseDuration("  2 us  ").ps(), 2'000'000);
  EXPECT_EQ(parseDuration("+4ns").ps(), 4'000);
  EXPECT_EQ(parseDuration("-3 ns").ps(), -3'000);
  EXPECT_EQ(parseDuration("0 ps"), Duration::zero());
  EXPECT_EQ(parseDuration(".5 ns").ps(), 500);
  EXPECT_EQ(parseDuration("9223372036854775807 ps").ps(), kMax);
  EXPECT_EQ(parseDuration("9223372036.854775807 ms").ps(), kMax);
  // Every value a float parse would round differently.
  for (int k = 1; k < 1000; ++k) {
    const std::string text = "0." + std::to_string(1000 + k).substr(1) + " ns";
    EXPECT_EQ(parseDuration(text).ps(), k) << text;
  }
}

TEST(TimeTest, ParseDurationErrors) {
  EXPECT_THAT(parseError("100"), HasSubstr("missing unit"));
  EXPECT_THAT(parseError("100"), HasSubstr("\"100\""));
  EXPECT_THAT(parseError("1.5"), HasSubstr("missing unit"));
  EXPECT_THAT(parseError("5 ks"), HasSubstr("unknown unit \"ks\""));
  EXPECT_THAT(parseError("5 nanoseconds"), HasSubstr("unknown unit"));
  EXPECT_THAT(parseError("5 NS"), HasSubstr("unknown unit"));
  EXPECT_THAT(parseError("1e3 ns"), HasSubstr("unknown unit"));
  EXPECT_THAT(parseError("1.2.3 ns"), HasSubstr("unknown unit"));
  EXPECT_THAT(parseError("64MB/s"), HasSubstr("unknown unit"));
  EXPECT_THAT(parseError(""), HasSubstr("expected a number"));
  EXPECT_THAT(parseError("ns"), HasSubstr("expected a number"));
  EXPECT_THAT(parseError("fast"), HasSubstr("expected a number"));
  EXPECT_THAT(parseError("."), HasSubstr("expected a number"));
  // Finer than a picosecond.
  EXPECT_THAT(parseError("0.5 ps"), HasSubstr("finer than one picosecond"));
  EXPECT_THAT(parseError("1.0001 ns"), HasSubstr("finer than one picosecond"));
  EXPECT_THAT(parseError("0.0000000000001 s"), HasSubstr("finer than one picosecond"));
  EXPECT_THAT(parseError("1.50 ps"), HasSubstr("finer than one picosecond"));
  // Too large for int64 picoseconds, including products that overflow 128-bit intermediates.
  EXPECT_THAT(parseError("9223372036854775808 ps"), HasSubstr("too large"));
  EXPECT_THAT(parseError("9223373 s"), HasSubstr("too large"));
  EXPECT_THAT(parseError("1000000000000000000000000000000 s"), HasSubstr("too large"));
  EXPECT_THAT(parseError("340282366920938463463374607431 s"), HasSubstr("too large"));
  EXPECT_THAT(parseError("99999999999999999999999999999999999999999 ps"), HasSubstr("too large"));
}

TEST(TimeTest, ToString) {
  EXPECT_EQ(toString(Duration::zero()), "0 ps");
  EXPECT_EQ(toString(1_ps), "1 ps");
  EXPECT_EQ(toString(999_ps), "999 ps");
  EXPECT_EQ(toString(1_ns), "1 ns");
  EXPECT_EQ(toString(Duration::fromPs(1500)), "1.5 ns");
  EXPECT_EQ(toString(Duration::fromPs(1700)), "1.7 ns");
  EXPECT_EQ(toString(Duration::fromPs(1234)), "1.234 ns");
  EXPECT_EQ(toString(Duration::fromPs(1'234'567)), "1234.567 ns");  // exact to three decimals
  EXPECT_EQ(toString(Duration::fromPs(1'234'000)), "1.234 us");
  EXPECT_EQ(toString(Duration::fromPs(1'001)), "1.001 ns");
  EXPECT_EQ(toString(Duration::fromPs(1'010)), "1.01 ns");
  EXPECT_EQ(toString(2_us), "2 us");
  EXPECT_EQ(toString(3_ms), "3 ms");
  EXPECT_EQ(toString(5_s), "5 s");
  EXPECT_EQ(toString(Duration::fromPs(-1500)), "-1.5 ns");
  EXPECT_EQ(toString(Duration::max()), "never");
  EXPECT_EQ(toString(SimTime::never()), "never");
  EXPECT_EQ(toString(SimTime::zero() + 250_ns), "250 ns");
  EXPECT_EQ(toString(SimTime::zero()), "0 ps");
}

TEST(TimeTest, ToStringRoundTripsThroughParse) {
  for (int64_t ps : {int64_t{0}, int64_t{1}, int64_t{17}, int64_t{1'700}, int64_t{1'234'567}, int64_t{42'000'000},
                     int64_t{1'000'000'000'001}, int64_t{3'600'000'000'000'000}, int64_t{-2'500}}) {
    const Duration d = Duration::fromPs(ps);
    EXPECT_EQ(parseDuration(toString(d)), d) << toString(d);
  }
}

}  // namespace
}  // namespace wafersim
