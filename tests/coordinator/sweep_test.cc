// Sweeps (coordinator/sweep.h): the grid, zip and random parts expand in the documented order
// (keys sorted within a part, the last grid key fastest), random samples are a fixed splitmix64
// stream, values print as the shortest round-trip text, and every malformed spec is
// Error{InvalidConfig} naming the field.
#include "coordinator/sweep.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::vector<SweepPoint> expand(const std::string& text) { return expandSweep(parseSweepSpec(Json::parse(text))); }

std::vector<std::vector<std::string>> overridesOf(const std::vector<SweepPoint>& points) {
  std::vector<std::vector<std::string>> all;
  for (const SweepPoint& point : points) all.push_back(point.overrides);
  return all;
}

// The Error{InvalidConfig} message parseSweepSpec throws for `spec`, or a test failure.
std::string specError(const Json& spec, size_t maxPoints = 100000) {
  try {
    parseSweepSpec(spec, maxPoints);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << spec.dump();
  return "";
}
std::string parseError(const std::string& text, size_t maxPoints = 100000) {
  return specError(Json::parse(text), maxPoints);
}

TEST(Sweep, GridIsTheProductWithSortedKeysAndTheLastFastest) {
  const std::vector<SweepPoint> points = expand(R"({"grid": {"b": [1, 2, 3], "a": ["x", "y"]}})");
  ASSERT_EQ(points.size(), 6u);
  EXPECT_THAT(overridesOf(points),
              ElementsAre(ElementsAre("a=x", "b=1"), ElementsAre("a=x", "b=2"), ElementsAre("a=x", "b=3"),
                          ElementsAre("a=y", "b=1"), ElementsAre("a=y", "b=2"), ElementsAre("a=y", "b=3")));
  EXPECT_EQ(points[4].values, Json::parse(R"({"a": "y", "b": 2})"));
  EXPECT_TRUE(points[4].values["b"].is_number_integer());
}

TEST(Sweep, GridOfThreeAxesCountsTheProduct) {
  const std::vector<SweepPoint> points = expand(R"({"grid": {"a": [1, 2], "b": [1, 2, 3], "c": [1, 2, 3, 4]}})");
  ASSERT_EQ(points.size(), 24u);
  EXPECT_THAT(points[0].overrides, ElementsAre("a=1", "b=1", "c=1"));
  EXPECT_THAT(points[5].overrides, ElementsAre("a=1", "b=2", "c=2"));
  EXPECT_THAT(points[23].overrides, ElementsAre("a=2", "b=3", "c=4"));
  std::set<std::vector<std::string>> distinct;
  for (const SweepPoint& point : points) distinct.insert(point.overrides);
  EXPECT_EQ(distinct.size(), 24u);
}

TEST(Sweep, ZipPairsTheIthValues) {
  const std::vector<SweepPoint> points =
      expand(R"({"zip": {"params.workload.count": [16, 32], "params.workload.concurrency": [4, 8]}})");
  EXPECT_THAT(overridesOf(points),
              ElementsAre(ElementsAre("params.workload.concurrency=4", "params.workload.count=16"),
                          ElementsAre("params.workload.concurrency=8", "params.workload.count=32")));
}

TEST(Sweep, GridTimesZipWithGridKeysFirst) {
  // The zip keys sort before the grid key, but a point lists grid keys first.
  const std::vector<SweepPoint> points =
      expand(R"({"grid": {"z": [1, 2]}, "zip": {"a": ["p", "q", "r"], "b": [10, 20, 30]}})");
  EXPECT_THAT(overridesOf(points),
              ElementsAre(ElementsAre("z=1", "a=p", "b=10"), ElementsAre("z=1", "a=q", "b=20"),
                          ElementsAre("z=1", "a=r", "b=30"), ElementsAre("z=2", "a=p", "b=10"),
                          ElementsAre("z=2", "a=q", "b=20"), ElementsAre("z=2", "a=r", "b=30")));
}

TEST(Sweep, OverridesGoGridZipRangesChoices) {
  const std::vector<SweepPoint> points = expand(R"({
    "grid": {"z.grid": [1]}, "zip": {"y.zip": [2]},
    "random": {"count": 1, "ranges": {"x.range": {"low": 3, "high": 3}}, "choices": {"w.choice": ["c"]}}})");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_THAT(points[0].overrides, ElementsAre("z.grid=1", "y.zip=2", "x.range=3", "w.choice=c"));
}

TEST(Sweep, HeaderExample) {
  const Json spec = Json::parse(R"({
    "grid":   {"params.model.preset": ["mixtral-8x7b", "qwen3-30b-a3b"], "simulation.seed": [1, 2]},
    "zip":    {"params.workload.count": [16, 32], "params.workload.concurrency": [4, 8]},
    "random": {"count": 20, "seed": 7,
               "ranges":  {"params.serving.command_latency_ns": {"low": 1, "high": 100, "log": true,
                                                                  "integer": true}},
               "choices": {"mapping.policy": ["ep", "tp"]}}})");
  const SweepSpec parsed = parseSweepSpec(spec);
  EXPECT_EQ(parsed.grid.size(), 2u);
  EXPECT_EQ(parsed.zip.size(), 2u);
  EXPECT_EQ(parsed.randomCount, 20u);
  EXPECT_EQ(parsed.randomSeed, 7u);
  ASSERT_EQ(parsed.ranges.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].key, "params.serving.command_latency_ns");
  EXPECT_EQ(parsed.ranges[0].low, 1);
  EXPECT_EQ(parsed.ranges[0].high, 100);
  EXPECT_TRUE(parsed.ranges[0].log);
  EXPECT_TRUE(parsed.ranges[0].integer);
  ASSERT_EQ(parsed.choices.size(), 1u);
  EXPECT_EQ(parsed.choices[0].key, "mapping.policy");

  const std::vector<SweepPoint> points = expandSweep(parsed);
  ASSERT_EQ(points.size(), 2u * 2u * 2u * 20u);
  EXPECT_EQ(points[0].overrides[0], "params.model.preset=mixtral-8x7b");
  EXPECT_EQ(points.back().overrides[0], "params.model.preset=qwen3-30b-a3b");
  for (const SweepPoint& point : points) EXPECT_EQ(point.overrides.size(), 6u);
}

TEST(Sweep, SeedDefaultsToOne) {
  const SweepSpec spec = parseSweepSpec(Json::parse(R"({"random": {"count": 2, "choices": {"c": [1, 2]}}})"));
  EXPECT_EQ(spec.randomSeed, 1u);
  EXPECT_EQ(spec.randomCount, 2u);
}

constexpr const char* kRandom = R"({"random": {"count": 50, "seed": %SEED%,
    "ranges": {"f": {"low": -2.5, "high": 7.25}, "i": {"low": -3, "high": 40, "integer": true}},
    "choices": {"c": ["ep", "tp", "dp"]}}})";

std::string randomSpec(const std::string& seed) {
  std::string text = kRandom;
  text.replace(text.find("%SEED%"), 6, seed);
  return text;
}

TEST(Sweep, RandomIsDeterministic) {
  const auto first = overridesOf(expand(randomSpec("11")));
  EXPECT_EQ(first.size(), 50u);
  EXPECT_EQ(overridesOf(expand(randomSpec("11"))), first);
  EXPECT_NE(overridesOf(expand(randomSpec("12"))), first);
  // The largest seed is accepted.
  EXPECT_EQ(expand(randomSpec("18446744073709551615")).size(), 50u);
}

// A known answer pins the generator and the draw order (range, then choice, per sample), so
// that a sweep expands the same on every machine: splitmix64 seeded with 7 gives 7191089600892374487,
// 309689372594955804, 16616101746815609346, 10753165928301472203.
TEST(Sweep, RandomFollowsSplitmix64) {
  const std::vector<SweepPoint> points = expand(R"({"random": {"count": 2, "seed": 7,
      "ranges": {"r": {"low": 10, "high": 20}}, "choices": {"c": ["a", "b", "c", "d", "e"]}}})");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].values["r"].get<double>(), 13.898297483912714);
  EXPECT_EQ(points[0].values["c"], "e");  // 309689372594955804 % 5 == 4
  EXPECT_DOUBLE_EQ(points[1].values["r"].get<double>(), 19.007606806068836);
  EXPECT_EQ(points[1].values["c"], "d");  // 10753165928301472203 % 5 == 3
  // Exact to the last bit: this fails if the build lets the compiler fuse low + u * (high - low)
  // into an FMA (the top-level CMakeLists.txt sets -ffp-contract=off for that reason).
  EXPECT_THAT(points[0].overrides, ElementsAre("r=13.898297483912714", "c=e"));
}

TEST(Sweep, RangesAreRespected) {
  const std::vector<SweepPoint> points = expand(randomSpec("3"));
  std::set<int64_t> integers;
  std::set<std::string> choices;
  double lowest = 1e9, highest = -1e9;
  for (const SweepPoint& point : points) {
    const Json& f = point.values["f"];
    ASSERT_TRUE(f.is_number());
    EXPECT_GE(f.get<double>(), -2.5);
    EXPECT_LE(f.get<double>(), 7.25);
    lowest = std::min(lowest, f.get<double>());
    highest = std::max(highest, f.get<double>());
    const Json& i = point.values["i"];
    ASSERT_TRUE(i.is_number_integer()) << i.dump();
    EXPECT_GE(i.get<int64_t>(), -3);
    EXPECT_LE(i.get<int64_t>(), 40);
    integers.insert(i.get<int64_t>());
    choices.insert(point.values["c"].get<std::string>());
    EXPECT_EQ(point.overrides[1], "i=" + std::to_string(i.get<int64_t>()));
  }
  EXPECT_LT(lowest, 0);  // spread over the range, not stuck at one end
  EXPECT_GT(highest, 4);
  EXPECT_GT(integers.size(), 20u);
  EXPECT_EQ(choices, (std::set<std::string>{"ep", "tp", "dp"}));
}

TEST(Sweep, IntegerRangeHitsEveryValueIncludingTheEnds) {
  const std::vector<SweepPoint> points =
      expand(R"({"random": {"count": 600, "ranges": {"d": {"low": 1, "high": 6, "integer": true}}}})");
  std::map<int64_t, int> seen;
  for (const SweepPoint& point : points) {
    ASSERT_TRUE(point.values["d"].is_number_integer());
    ++seen[point.values["d"].get<int64_t>()];
    EXPECT_THAT(point.overrides[0], ::testing::MatchesRegex("d=[1-6]"));
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen.begin()->first, 1);
  EXPECT_EQ(seen.rbegin()->first, 6);
}

TEST(Sweep, LogRangeIsUniformInLogSpace) {
  const std::vector<SweepPoint> points =
      expand(R"({"random": {"count": 2000, "seed": 5, "ranges": {"x": {"low": 1e-3, "high": 1e3, "log": true}}}})");
  int belowOne = 0, belowMilli100 = 0;
  for (const SweepPoint& point : points) {
    const double x = point.values["x"].get<double>();
    EXPECT_GE(x, 1e-3);
    EXPECT_LE(x, 1e3);
    belowOne += x < 1;
    belowMilli100 += x < 0.1;
  }
  // log-uniform: half below the geometric middle (1), a third below 0.1; a linear draw would put
  // almost none there.
  EXPECT_GT(belowOne, 850);
  EXPECT_LT(belowOne, 1150);
  EXPECT_GT(belowMilli100, 550);
  EXPECT_LT(belowMilli100, 800);
}

TEST(Sweep, LogIntegerRange) {
  const std::vector<SweepPoint> points = expand(
      R"({"random": {"count": 500, "ranges": {"ns": {"low": 1, "high": 100, "log": true, "integer": true}}}})");
  int small = 0;
  for (const SweepPoint& point : points) {
    ASSERT_TRUE(point.values["ns"].is_number_integer());
    const int64_t n = point.values["ns"].get<int64_t>();
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 100);
    small += n <= 10;
  }
  EXPECT_GT(small, 200);  // about half lie in [1, 10]
}

TEST(Sweep, RangeOfOnePointGivesThatPoint) {
  const std::vector<SweepPoint> points = expand(
      R"({"random": {"count": 3, "ranges": {"a": {"low": 5, "high": 5, "log": true},
                                            "b": {"low": 0.1, "high": 0.1}}}})");
  for (const SweepPoint& point : points) EXPECT_THAT(point.overrides, ElementsAre("a=5", "b=0.1"));
}

TEST(Sweep, ChoicesComeFromTheList) {
  const std::vector<SweepPoint> points =
      expand(R"({"random": {"count": 300, "seed": 9, "choices": {"p": ["ep", 2, true, 0.5]}}})");
  std::set<std::string> seen;
  for (const SweepPoint& point : points) {
    const Json& v = point.values["p"];
    EXPECT_TRUE(v == "ep" || v == 2 || v == true || v == 0.5) << v.dump();
    seen.insert(point.overrides[0]);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"p=ep", "p=2", "p=true", "p=0.5"}));
}

TEST(Sweep, RandomSamplesAreTheSameForEveryGridPoint) {
  const std::vector<SweepPoint> points = expand(
      R"({"grid": {"g": [1, 2]}, "random": {"count": 3, "ranges": {"r": {"low": 0, "high": 1}}}})");
  ASSERT_EQ(points.size(), 6u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(points[i].overrides[0], "g=1");
    EXPECT_EQ(points[i + 3].overrides[0], "g=2");
    EXPECT_EQ(points[i].overrides[1], points[i + 3].overrides[1]);
  }
  EXPECT_NE(points[0].overrides[1], points[1].overrides[1]);
}

TEST(Sweep, FormatsValues) {
  EXPECT_EQ(formatOverrideValue(Json(1)), "1");
  EXPECT_EQ(formatOverrideValue(Json(1.0)), "1");
  EXPECT_EQ(formatOverrideValue(Json(32.0)), "32");
  EXPECT_EQ(formatOverrideValue(Json(-4)), "-4");
  EXPECT_EQ(formatOverrideValue(Json(-4.0)), "-4");
  EXPECT_EQ(formatOverrideValue(Json(1.5)), "1.5");
  EXPECT_EQ(formatOverrideValue(Json(0.1)), "0.1");
  EXPECT_EQ(formatOverrideValue(Json(1e-6)), "1e-06");
  EXPECT_EQ(formatOverrideValue(Json(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(formatOverrideValue(Json(1e300)), "1e+300");
  EXPECT_EQ(formatOverrideValue(Json(9007199254740992.0)), "9007199254740992");
  EXPECT_EQ(formatOverrideValue(Json(true)), "true");
  EXPECT_EQ(formatOverrideValue(Json(false)), "false");
  EXPECT_EQ(formatOverrideValue(Json("ep")), "ep");
  EXPECT_EQ(formatOverrideValue(Json(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(formatOverrideValue(Json(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_THROW(formatOverrideValue(Json()), Error);
  EXPECT_THROW(formatOverrideValue(Json::array({1})), Error);
  EXPECT_THROW(formatOverrideValue(Json(std::nan(""))), Error);
}

TEST(Sweep, FormatsValuesInOverrides) {
  const std::vector<SweepPoint> points = expand(R"({"grid": {"x": [1, 1.5, 0.1, 1e-6, 2.0, true, "ep"]}})");
  EXPECT_THAT(overridesOf(points), ElementsAre(ElementsAre("x=1"), ElementsAre("x=1.5"), ElementsAre("x=0.1"),
                                               ElementsAre("x=1e-06"), ElementsAre("x=2"), ElementsAre("x=true"),
                                               ElementsAre("x=ep")));
  EXPECT_TRUE(points[0].values["x"].is_number_integer());
  EXPECT_EQ(points[6].values["x"], "ep");
}

TEST(Sweep, KeysMayBeDottedPathsOfWordCharacters) {
  const std::vector<SweepPoint> points = expand(R"({"grid": {"params.model-x_1.Y9": [1], "a": [2]}})");
  EXPECT_THAT(points[0].overrides, ElementsAre("a=2", "params.model-x_1.Y9=1"));
}

TEST(SweepErrors, TopLevel) {
  EXPECT_THAT(parseError("[]"), HasSubstr("sweep: expected an object"));
  EXPECT_THAT(parseError(R"({"grdi": {}})"), HasSubstr("sweep: unknown field \"grdi\" (known: grid, zip, random)"));
  EXPECT_THAT(parseError("{}"), HasSubstr("sweep: no points (give grid, zip or random)"));
  EXPECT_THAT(parseError(R"({"grid": {}, "zip": {}})"), HasSubstr("sweep: no points (give grid, zip or random)"));
  EXPECT_THAT(parseError(R"({"grid": []})"), HasSubstr("sweep.grid: expected an object"));
  EXPECT_THAT(parseError(R"({"zip": null})"), HasSubstr("sweep.zip: expected an object"));
  EXPECT_THAT(parseError(R"({"random": 3})"), HasSubstr("sweep.random: expected an object"));
}

TEST(SweepErrors, Lists) {
  EXPECT_THAT(parseError(R"({"grid": {"a": 1}})"), HasSubstr("sweep.grid.a: expected a list of values, got number"));
  EXPECT_THAT(parseError(R"({"grid": {"simulation.seed": []}})"), HasSubstr("sweep.grid.simulation.seed: empty list"));
  EXPECT_THAT(parseError(R"({"zip": {"a": []}})"), HasSubstr("sweep.zip.a: empty list"));
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "choices": {"c": []}}})"),
              HasSubstr("sweep.random.choices.c: empty list"));
  EXPECT_THAT(parseError(R"({"grid": {"a": [1, null]}})"),
              HasSubstr("sweep.grid.a[1]: expected a string, number or bool, got null"));
  EXPECT_THAT(parseError(R"({"grid": {"a": [[1]]}})"),
              HasSubstr("sweep.grid.a[0]: expected a string, number or bool, got array"));
  EXPECT_THAT(parseError(R"({"zip": {"a": [1, 2], "b": [1, {"x": 1}]}})"),
              HasSubstr("sweep.zip.b[1]: expected a string, number or bool, got object"));
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "choices": {"c": ["x", "y", null]}}})"),
              HasSubstr("sweep.random.choices.c[2]: expected a string, number or bool, got null"));
  Json nan;
  nan["grid"]["a"] = Json::array({std::nan("")});
  EXPECT_THAT(specError(nan), HasSubstr("sweep.grid.a[0]: not a finite number"));
}

TEST(SweepErrors, ZipListsOfDifferentLengths) {
  EXPECT_THAT(parseError(R"({"zip": {"a": [1, 2], "b": [1, 2], "c": [1, 2, 3]}})"),
              HasSubstr("sweep.zip: lists differ in length: \"a\" has 2 values, \"c\" has 3"));
}

TEST(SweepErrors, Random) {
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "cnt": 1, "choices": {"c": [1]}}})"),
              HasSubstr("sweep.random: unknown field \"cnt\" (known: count, seed, ranges, choices)"));
  EXPECT_THAT(parseError(R"({"random": {"choices": {"c": [1]}}})"), HasSubstr("sweep.random: missing \"count\""));
  for (const char* count : {"0", "-1", "2.5", "\"3\"", "true", "4294967296"}) {
    SCOPED_TRACE(count);
    EXPECT_THAT(parseError(std::string(R"({"random": {"count": )") + count + R"(, "choices": {"c": [1]}}})"),
                HasSubstr(std::string("sweep.random.count: expected an integer from 1 to 4294967295, got ") + count));
  }
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "seed": -1, "choices": {"c": [1]}}})"),
              HasSubstr("sweep.random.seed: expected an integer from 0 to 18446744073709551615, got -1"));
  EXPECT_THAT(parseError(R"({"random": {"count": 3}})"), HasSubstr("sweep.random: give at least one range or choice"));
  EXPECT_THAT(parseError(R"({"random": {"count": 3, "ranges": {}, "choices": {}}})"),
              HasSubstr("sweep.random: give at least one range or choice"));
  EXPECT_THAT(parseError(R"({"random": {"count": 3, "ranges": []}})"),
              HasSubstr("sweep.random.ranges: expected an object"));
}

std::string rangeError(const std::string& range) {
  return parseError(R"({"random": {"count": 1, "ranges": {"r": )" + range + "}}}");
}

TEST(SweepErrors, Ranges) {
  EXPECT_THAT(rangeError("[1, 2]"), HasSubstr("sweep.random.ranges.r: expected an object with low and high"));
  EXPECT_THAT(rangeError(R"({"low": 1, "hgih": 2})"),
              HasSubstr("sweep.random.ranges.r: unknown field \"hgih\" (known: low, high, log, integer)"));
  EXPECT_THAT(rangeError(R"({"low": 1})"), HasSubstr("sweep.random.ranges.r: missing \"high\""));
  EXPECT_THAT(rangeError(R"({"low": "1", "high": 2})"),
              HasSubstr("sweep.random.ranges.r.low: expected a number, got \"1\""));
  EXPECT_THAT(rangeError(R"({"low": 1, "high": 2, "log": "yes"})"),
              HasSubstr("sweep.random.ranges.r.log: expected true or false"));
  EXPECT_THAT(rangeError(R"({"low": 1, "high": 2, "integer": 1})"),
              HasSubstr("sweep.random.ranges.r.integer: expected true or false"));
  EXPECT_THAT(rangeError(R"({"low": 5, "high": 1})"), HasSubstr("sweep.random.ranges.r: low (5) is above high (1)"));
  EXPECT_THAT(rangeError(R"({"low": 0, "high": 1, "log": true})"),
              HasSubstr("sweep.random.ranges.r: a log range needs low > 0, got 0"));
  EXPECT_THAT(rangeError(R"({"low": -2, "high": 1, "log": true})"),
              HasSubstr("sweep.random.ranges.r: a log range needs low > 0, got -2"));
  EXPECT_THAT(rangeError(R"({"low": 0.5, "high": 3, "integer": true})"),
              HasSubstr("sweep.random.ranges.r.low: an integer range needs integer bounds, got 0.5"));
  EXPECT_THAT(rangeError(R"({"low": 0, "high": 3.25, "integer": true})"),
              HasSubstr("sweep.random.ranges.r.high: an integer range needs integer bounds, got 3.25"));
  EXPECT_THAT(rangeError(R"({"low": 0, "high": 1e17, "integer": true})"),
              HasSubstr("sweep.random.ranges.r.high: an integer range's bounds must lie within +-2^53"));
  EXPECT_THAT(rangeError(R"({"low": -1e308, "high": 1e308})"), HasSubstr("sweep.random.ranges.r: range too wide"));

  Json infinite;
  infinite["random"] = {{"count", 1}, {"ranges", {{"r", {{"low", 0}, {"high", INFINITY}}}}}};
  EXPECT_THAT(specError(infinite), HasSubstr("sweep.random.ranges.r.high: not a finite number"));
}

TEST(SweepErrors, BadKeys) {
  for (const char* key : {"a..b", ".a", "a.", "", "a b", "a/b", "a=b", "ä"}) {
    SCOPED_TRACE(key);
    const std::string quoted = std::string("\"") + key + "\"";
    EXPECT_THAT(parseError(R"({"grid": {)" + quoted + ": [1]}}"),
                HasSubstr("sweep.grid: bad key " + quoted + " (expected a dotted path of [A-Za-z0-9_.-]"));
  }
  EXPECT_THAT(parseError(R"({"zip": {"a..b": [1]}})"), HasSubstr("sweep.zip: bad key \"a..b\""));
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "ranges": {"a.": {"low": 0, "high": 1}}}})"),
              HasSubstr("sweep.random.ranges: bad key \"a.\""));
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "choices": {".a": [1]}}})"),
              HasSubstr("sweep.random.choices: bad key \".a\""));
}

TEST(SweepErrors, KeyInTwoParts) {
  EXPECT_THAT(parseError(R"({"grid": {"a": [1]}, "zip": {"a": [2]}})"),
              HasSubstr("sweep: key \"a\" appears in both grid and zip"));
  EXPECT_THAT(parseError(R"({"grid": {"a": [1]}, "random": {"count": 1, "choices": {"a": [2]}}})"),
              HasSubstr("sweep: key \"a\" appears in both grid and random.choices"));
  EXPECT_THAT(parseError(R"({"zip": {"a": [1]}, "random": {"count": 1, "ranges": {"a": {"low": 0, "high": 1}}}})"),
              HasSubstr("sweep: key \"a\" appears in both zip and random.ranges"));
  EXPECT_THAT(parseError(R"({"random": {"count": 1, "ranges": {"a": {"low": 0, "high": 1}}, "choices": {"a": [1]}}})"),
              HasSubstr("sweep: key \"a\" appears in both random.ranges and random.choices"));
}

TEST(SweepErrors, MaxPoints) {
  const std::string tenByTen = R"({"grid": {"a": [0,1,2,3,4,5,6,7,8,9], "b": [0,1,2,3,4,5,6,7,8,9]}})";
  EXPECT_THAT(parseError(tenByTen, 99), HasSubstr("sweep: 100 points, over the limit of 99"));
  EXPECT_EQ(expandSweep(parseSweepSpec(Json::parse(tenByTen), 100)).size(), 100u);

  // Zip and random count toward the total.
  EXPECT_THAT(parseError(R"({"grid": {"a": [1, 2]}, "zip": {"b": [1, 2, 3]}, "random": {"count": 4,
                             "choices": {"c": [1]}}})",
                         23),
              HasSubstr("sweep: 24 points, over the limit of 23"));
  EXPECT_THAT(parseError(R"({"grid": {"a": [1,2,3,4,5,6,7,8,9,10]}, "random": {"count": 4294967295,
                             "choices": {"c": [1]}}})"),
              HasSubstr("sweep: 42949672950 points, over the limit of 100000"));

  // Twenty axes of ten values: 10^20 points, more than a size_t holds; caught before expanding.
  Json huge;
  for (int axis = 0; axis < 20; ++axis) {
    huge["grid"]["k" + std::to_string(axis)] = Json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  }
  EXPECT_THAT(specError(huge), HasSubstr("sweep: more than 18446744073709551615 points, over the limit of 100000"));
}

TEST(SweepErrors, ExpandChecksAHandBuiltSpec) {
  SweepSpec spec;
  spec.zip = {{"a", {1, 2}}, {"b", {1}}};
  EXPECT_THROW(expandSweep(spec), Error);
  spec.zip = {{"a", {}}};
  EXPECT_THROW(expandSweep(spec), Error);
}

}  // namespace
}  // namespace wafersim
