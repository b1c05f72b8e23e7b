// PartitionMap helpers and validatePartitioning (sim/partition_map.h).
#include "sim/partition_map.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::thrownBy;

TEST(PartitionMapTest, LinearGivesContiguousRangesOfAlmostEqualSize) {
  EXPECT_THAT(PartitionMap::linear(6, 3).of, ElementsAre(0, 0, 1, 1, 2, 2));
  EXPECT_THAT(PartitionMap::linear(7, 3).of, ElementsAre(0, 0, 0, 1, 1, 2, 2));
  EXPECT_THAT(PartitionMap::linear(4, 1).of, ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(PartitionMap::linear(4, 4).of, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(PartitionMap::linear(7, 3).partitions, 3u);
  for (size_t n : {5u, 16u, 24u, 100u})
    for (uint32_t p = 1; p <= 4; ++p) {
      const PartitionMap m = PartitionMap::linear(n, p);
      std::vector<size_t> sizes(p);
      for (size_t i = 0; i < n; ++i) {
        ++sizes[m.of[i]];
        if (i > 0) {
          EXPECT_GE(m.of[i], m.of[i - 1]);
        }
      }
      for (size_t s : sizes) {
        EXPECT_GE(s, n / p);
        EXPECT_LE(s, n / p + 1);
      }
    }
}

TEST(PartitionMapTest, RoundRobinDealsComponentsInTurn) {
  EXPECT_THAT(PartitionMap::roundRobin(7, 3).of, ElementsAre(0, 1, 2, 0, 1, 2, 0));
  EXPECT_THAT(PartitionMap::single(3).of, ElementsAre(0, 0, 0));
  EXPECT_EQ(PartitionMap::single(3).partitions, 1u);
}

TEST(PartitionMapTest, NeedsAtLeastOnePartition) {
  EXPECT_THAT(thrownBy([] { PartitionMap::linear(3, 0); }).message, HasSubstr("need at least one partition"));
  EXPECT_THAT(thrownBy([] { PartitionMap::roundRobin(3, 0); }).message, HasSubstr("need at least one partition"));
}

class ValidatePartitioningTest : public ::testing::Test {
 protected:
  ValidatePartitioningTest() {
    a_ = graph_.addComponent("a", "test.Node");
    b_ = graph_.addComponent("b", "test.Node");
    c_ = graph_.addComponent("c", "test.Node");
    graph_.connect(a_, "out", b_, "in", Duration::fromPs(100));
    graph_.connect(b_, "out", c_, "in", Duration::fromPs(100));
  }
  SystemGraph graph_;
  ComponentId a_, b_, c_;
};

TEST_F(ValidatePartitioningTest, AcceptsEveryValidSplit) {
  for (uint32_t p = 1; p <= 3; ++p) {
    EXPECT_NO_THROW(validatePartitioning(graph_, PartitionMap::linear(3, p)));
    EXPECT_NO_THROW(validatePartitioning(graph_, PartitionMap::roundRobin(3, p)));
  }
}

TEST_F(ValidatePartitioningTest, RejectsAnEmptyPartition) {
  const PartitionMap map{3, {0, 0, 2}};
  const auto t = thrownBy([&] { validatePartitioning(graph_, map); });
  EXPECT_EQ(t.kind, ErrorKind::InvalidConfig);
  EXPECT_THAT(t.message, HasSubstr("partition 1 has no components"));
}

TEST_F(ValidatePartitioningTest, RejectsAMapOfTheWrongSize) {
  const PartitionMap map{1, {0, 0}};
  EXPECT_THAT(thrownBy([&] { validatePartitioning(graph_, map); }).message,
              HasSubstr("has 2 entries for 3 components"));
}

TEST_F(ValidatePartitioningTest, RejectsAPartitionThatDoesNotExist) {
  const PartitionMap map{2, {0, 1, 5}};
  EXPECT_THAT(thrownBy([&] { validatePartitioning(graph_, map); }).message,
              HasSubstr("component c (test.Node): mapped to partition 5 of 2"));
}

TEST_F(ValidatePartitioningTest, RejectsZeroPartitions) {
  const PartitionMap map{0, {0, 0, 0}};
  EXPECT_THAT(thrownBy([&] { validatePartitioning(graph_, map); }).message, HasSubstr("need at least one partition"));
}

TEST_F(ValidatePartitioningTest, ZeroLatencyLinkMayNotBeCut) {
  graph_.connect(c_, "out", a_, "in", Duration::zero());
  EXPECT_NO_THROW(validatePartitioning(graph_, PartitionMap::single(3)));
  // a and c together, b apart: the zero-latency link c -> a is not cut.
  EXPECT_NO_THROW(validatePartitioning(graph_, PartitionMap{2, {0, 1, 0}}));
  const auto t = thrownBy([&] { validatePartitioning(graph_, PartitionMap{2, {0, 0, 1}}); });
  EXPECT_THAT(t.message, HasSubstr("component c (test.Node) port out: zero latency across partitions 1 and 0"));
}

}  // namespace
}  // namespace wafersim
