// Declared parameters: resolveParams() rejects unknown keys, missing required values, wrong types
// and out-of-range values with messages naming the owner and the key, and fills in defaults
// (sim/params.h).
#include "sim/params.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::thrownBy;

const std::string kWhere = "component die[3] (test.Die)";

std::vector<ParamSpec> specs() {
  return {
      {"cores", ParamType::Integer, "8", "compute cores", 1, 1024},
      {"efficiency", ParamType::Real, "0.5", "fraction of peak", 0, 1},
      {"enabled", ParamType::Boolean, "true", "whether the die is on", {}, {}},
      {"latency", ParamType::Duration, "10 ns", "access latency", 1, 100000},
      {"label", ParamType::Text, "x", "a name", {}, {}},
      {"sram", ParamType::Integer, std::nullopt, "SRAM bytes (required)", 0, {}},
  };
}

std::string resolveError(const Params& given) {
  const auto t = thrownBy([&] { resolveParams(given, specs(), kWhere); });
  EXPECT_TRUE(t.thrown);
  EXPECT_EQ(t.kind, ErrorKind::InvalidConfig);
  return t.message;
}

TEST(ParamsTest, FillsDefaults) {
  const Params p = resolveParams({{"sram", "65536"}}, specs(), kWhere);
  EXPECT_EQ(p.integer("cores"), 8);
  EXPECT_DOUBLE_EQ(p.real("efficiency"), 0.5);
  EXPECT_TRUE(p.boolean("enabled"));
  EXPECT_EQ(p.duration("latency"), Duration::fromPs(10'000));
  EXPECT_EQ(p.text("label"), "x");
  EXPECT_EQ(p.integer("sram"), 65536);
  EXPECT_EQ(p.values().size(), 6u);
}

TEST(ParamsTest, KeepsGivenValues) {
  const Params p = resolveParams({{"sram", "0"}, {"cores", "1024"}, {"efficiency", "1"}, {"enabled", "no"},
                                  {"latency", "1 ps"}, {"label", "hello world"}},
                                 specs(), kWhere);
  EXPECT_EQ(p.integer("cores"), 1024);  // bounds are inclusive
  EXPECT_DOUBLE_EQ(p.real("efficiency"), 1.0);
  EXPECT_FALSE(p.boolean("enabled"));
  EXPECT_EQ(p.duration("latency"), Duration::fromPs(1));
  EXPECT_EQ(p.text("label"), "hello world");
}

TEST(ParamsTest, UnknownKey) {
  const std::string m = resolveError({{"sram", "1"}, {"sram_size", "64MB"}});
  EXPECT_THAT(m, HasSubstr(kWhere + ": unknown parameter \"sram_size\""));
  EXPECT_THAT(m, HasSubstr("(known: cores, efficiency, enabled, latency, label, sram)"));
  // A type with no parameters says so.
  EXPECT_THAT(thrownBy([] { resolveParams({{"a", "1"}}, {}, "component q (t)"); }).message,
              HasSubstr("component q (t): unknown parameter \"a\" (known: none)"));
}

TEST(ParamsTest, MissingRequired) {
  const std::string m = resolveError({{"cores", "2"}});
  EXPECT_THAT(m, HasSubstr(kWhere + ": missing required parameter \"sram\" (SRAM bytes (required))"));
}

TEST(ParamsTest, OutOfRange) {
  EXPECT_THAT(resolveError({{"sram", "1"}, {"cores", "0"}}), HasSubstr(kWhere + ".cores: 0 is below the minimum 1"));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"cores", "1025"}}),
              HasSubstr(kWhere + ".cores: 1025 is above the maximum 1024"));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"efficiency", "1.0001"}}),
              HasSubstr(kWhere + ".efficiency: 1.0001 is above the maximum 1"));
  EXPECT_THAT(resolveError({{"sram", "-1"}}), HasSubstr(kWhere + ".sram: -1 is below the minimum 0"));
  // Duration ranges are in picoseconds.
  EXPECT_THAT(resolveError({{"sram", "1"}, {"latency", "0 ns"}}),
              HasSubstr(kWhere + ".latency: 0 ns is below the minimum 1 ps"));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"latency", "100.001 ns"}}),
              HasSubstr(kWhere + ".latency: 100.001 ns is above the maximum 100000 ps"));
  EXPECT_NO_THROW(resolveParams({{"sram", "1"}, {"latency", "0.1 us"}}, specs(), kWhere));
}

TEST(ParamsTest, WrongType) {
  EXPECT_THAT(resolveError({{"sram", "1"}, {"cores", "eight"}}),
              HasSubstr(kWhere + ".cores: expected integer, got \"eight\""));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"cores", "8.5"}}),
              HasSubstr(kWhere + ".cores: expected integer, got \"8.5\""));
  EXPECT_THAT(resolveError({{"sram", "64MB"}}), HasSubstr(kWhere + ".sram: expected integer, got \"64MB\""));
  EXPECT_THAT(resolveError({{"sram", ""}}), HasSubstr(kWhere + ".sram: expected integer, got \"\""));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"efficiency", "half"}}),
              HasSubstr(kWhere + ".efficiency: expected real, got \"half\""));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"enabled", "maybe"}}),
              HasSubstr(kWhere + ".enabled: expected boolean, got \"maybe\""));
  const std::string badDuration = resolveError({{"sram", "1"}, {"latency", "64MB/s"}});
  EXPECT_THAT(badDuration, HasSubstr(kWhere + ".latency: bad duration \"64MB/s\""));
  EXPECT_THAT(resolveError({{"sram", "1"}, {"latency", "10"}}), HasSubstr(kWhere + ".latency: bad duration \"10\": missing unit"));
}

TEST(ParamsTest, TypedReadsCheckPresenceAndForm) {
  const Params p{{"n", "12"}, {"x", "2.5"}, {"b", "yes"}, {"d", "1.5 ns"}, {"s", "hi"}};
  EXPECT_EQ(p.integer("n"), 12);
  EXPECT_DOUBLE_EQ(p.real("x"), 2.5);
  EXPECT_DOUBLE_EQ(p.real("n"), 12.0);
  EXPECT_TRUE(p.boolean("b"));
  EXPECT_EQ(p.duration("d"), Duration::fromPs(1500));
  EXPECT_EQ(p.text("s"), "hi");
  EXPECT_TRUE(p.has("n"));
  EXPECT_FALSE(p.has("m"));
  EXPECT_THAT(thrownBy([&] { p.text("m"); }).message, HasSubstr("missing parameter \"m\""));
  EXPECT_THAT(thrownBy([&] { p.integer("x"); }).message, HasSubstr("parameter \"x\": expected an integer, got \"2.5\""));
  EXPECT_THAT(thrownBy([&] { p.real("s"); }).message, HasSubstr("parameter \"s\": expected a number, got \"hi\""));
  EXPECT_THAT(thrownBy([&] { p.boolean("n"); }).message, HasSubstr("parameter \"n\": expected true or false"));
  EXPECT_THAT(thrownBy([&] { p.duration("n"); }).message, HasSubstr("parameter \"n\": bad duration \"12\""));
  for (const char* t : {"true", "1", "yes"}) EXPECT_TRUE(Params({{"b", t}}).boolean("b")) << t;
  for (const char* f : {"false", "0", "no"}) EXPECT_FALSE(Params({{"b", f}}).boolean("b")) << f;
  EXPECT_THAT(thrownBy([] { Params({{"n", "99999999999999999999"}}).integer("n"); }).message,
              HasSubstr("expected an integer"));
}

TEST(ParamsTest, FormatRealRoundTrips) {
  for (double v : {0.1, 0.25, 1.0 / 3.0, 1e-300, 123456789.123456789, 0.0}) {
    const std::string text = formatReal(v);
    EXPECT_EQ(Params({{"x", text}}).real("x"), v) << text;
  }
  EXPECT_EQ(formatReal(0.25), "0.25");
}

TEST(ParamsTest, ParamTypeNames) {
  EXPECT_STREQ(toString(ParamType::Integer), "integer");
  EXPECT_STREQ(toString(ParamType::Real), "real");
  EXPECT_STREQ(toString(ParamType::Boolean), "boolean");
  EXPECT_STREQ(toString(ParamType::Duration), "duration");
  EXPECT_STREQ(toString(ParamType::Text), "text");
}

}  // namespace
}  // namespace wafersim
