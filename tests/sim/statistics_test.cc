// Counters and histograms (sim/statistics.h).
#include "sim/statistics.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::thrownBy;

TEST(HistogramTest, BucketsAreHalfOpenWithOpenEnds) {
  // Buckets: (-inf, 10), [10, 20), [20, 30), [30, +inf).
  Histogram h({10, 20, 30});
  EXPECT_THAT(h.counts(), ElementsAre(0, 0, 0, 0));
  for (int64_t s : {-5, 9, 10, 19, 20, 29, 30, 1000}) h.add(s);
  EXPECT_THAT(h.counts(), ElementsAre(2, 2, 2, 2));
  h.add(std::numeric_limits<int64_t>::min());
  h.add(std::numeric_limits<int64_t>::max() / 2);
  EXPECT_THAT(h.counts(), ElementsAre(3, 2, 2, 3));
  EXPECT_THAT(h.bounds(), ElementsAre(10, 20, 30));
}

TEST(HistogramTest, TracksCountSumMinMax) {
  Histogram h({0, 100});
  for (int64_t s : {5, -3, 250, 100, 0}) h.add(s);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 352);
  EXPECT_EQ(h.min(), -3);
  EXPECT_EQ(h.max(), 250);
  EXPECT_THAT(h.counts(), ElementsAre(1, 2, 2));
}

TEST(HistogramTest, SingleBoundAndNoBounds) {
  Histogram one({7});
  one.add(6);
  one.add(7);
  one.add(8);
  EXPECT_THAT(one.counts(), ElementsAre(1, 2));
  Histogram none({});
  none.add(-1);
  none.add(1);
  EXPECT_THAT(none.counts(), ElementsAre(2));
}

TEST(HistogramTest, BoundsMustBeStrictlyIncreasing) {
  EXPECT_THAT(thrownBy([] { Histogram({1, 1}); }).message, HasSubstr("strictly increasing"));
  EXPECT_THAT(thrownBy([] { Histogram({3, 2}); }).message, HasSubstr("strictly increasing"));
  EXPECT_FALSE(thrownBy([] { Histogram({-3, 2}); }).thrown);
}

TEST(StatSetTest, NamesAreUniqueAndStable) {
  StatSet stats;
  Counter& c = stats.counter("hits");
  c.add();
  c.add(4);
  EXPECT_EQ(&stats.counter("hits"), &c);  // the same counter again
  EXPECT_EQ(stats.counter("hits").value(), 5u);
  Histogram& h = stats.histogram("lat", {1, 2});
  EXPECT_EQ(&stats.histogram("lat", {1, 2}), &h);
  EXPECT_THAT(thrownBy([&] { stats.histogram("hits", {1}); }).message,
              HasSubstr("statistic \"hits\" is already a counter"));
  EXPECT_THAT(thrownBy([&] { stats.counter("lat"); }).message, HasSubstr("statistic \"lat\" is already a histogram"));
  stats.counter("a");
  std::vector<std::string> names;
  for (const auto& [name, counter] : stats.counters()) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("a", "hits"));  // sorted by name
  EXPECT_EQ(stats.histograms().size(), 1u);
}

}  // namespace
}  // namespace wafersim
