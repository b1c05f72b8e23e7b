// Determinism across transports (ARCHITECTURE.md contract 2): the same scenario gives the same
// results digest on threads and in 1 to 4 wafersim-node processes over ZeroMQ, both strategies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/nodes/node_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::runNodes;
using testing::runThreads;

struct Case {
  const char* name;
  std::string text;
};

class AcrossTransports : public ::testing::TestWithParam<std::tuple<int, uint32_t, const char*>> {};

const Case kCases[] = {
    {"phold", "model: phold\nparams: {lps: 48, remote: 0.5}\nsimulation: {end: 150 ns, seed: 11, checker: true}\n"},
    {"relay_grid", "model: relay_grid\nparams: {x: 6, y: 4, tokens: 3}\nsimulation: {end: 120 ns, seed: 5, checker: true}\n"},
};

TEST_P(AcrossTransports, SameDigestAsOneThread) {
  const auto [caseIndex, nodes, sync] = GetParam();
  const Case& c = kCases[caseIndex];
  const std::vector<std::string> overrides{std::string("simulation.sync=") + sync};
  const auto reference = runThreads(build(c.text, 1, overrides));
  const auto threads = runThreads(build(c.text, nodes, overrides));
  const auto b = build(c.text, nodes, overrides);
  const auto processes = runNodes(c.text, b, overrides);
  ASSERT_GT(reference.results.eventsCommitted(), 1000u) << c.name;
  EXPECT_EQ(threads.results.digestHex(), reference.results.digestHex()) << c.name;
  EXPECT_EQ(processes.results.digestHex(), reference.results.digestHex()) << c.name << " in " << nodes << " nodes";
  EXPECT_EQ(processes.results.eventsCommitted(), reference.results.eventsCommitted());
  EXPECT_EQ(processes.results.toJson(), reference.results.toJson());
  ASSERT_EQ(processes.partitions.size(), nodes);
  uint64_t events = 0;
  for (const auto& p : processes.partitions) events += p.events;
  EXPECT_EQ(events, reference.results.eventsCommitted());
}

INSTANTIATE_TEST_SUITE_P(Nodes, AcrossTransports,
                         ::testing::Combine(::testing::Values(0, 1), ::testing::Values(1u, 2u, 3u, 4u),
                                            ::testing::Values("window", "null")));

TEST(AcrossTransports, DifferentSeedDifferentDigest) {
  const std::string text = kCases[0].text;
  const auto a = runNodes(text, build(text, 2));
  const auto b = runNodes(text, build(text, 2, {"simulation.seed=12"}), {"simulation.seed=12"});
  EXPECT_NE(a.results.digestHex(), b.results.digestHex());
}

// Hybrid nodes: several partitions per node on threads (mailboxes between them, ZeroMQ between
// nodes, a two-level allGather): the same digest as one thread for even, uneven and interleaved
// layouts, and the events of every partition reported.
TEST(HybridNodes, SameDigestOnEveryLayout) {
  const std::vector<std::vector<uint32_t>> layouts = {
      {0, 0, 1, 1}, {0, 1, 0, 1}, {0, 0, 0, 1, 1}, {0, 1, 2, 0, 1, 2}, {0, 0, 0, 0}};
  for (const Case& c : kCases) {
    const auto reference = runThreads(build(c.text, 1));
    for (const auto& layout : layouts) {
      const auto n = static_cast<uint32_t>(layout.size());
      const auto r = runNodes(c.text, build(c.text, n), {}, {}, 3000, layout);
      std::string where = std::string(c.name) + " on layout";
      for (uint32_t node : layout) where += " " + std::to_string(node);
      EXPECT_EQ(r.results.digestHex(), reference.results.digestHex()) << where;
      EXPECT_EQ(r.results.toJson(), reference.results.toJson()) << where;
      ASSERT_EQ(r.partitions.size(), n) << where;
      uint64_t events = 0;
      for (uint32_t k = 0; k < n; ++k) {
        EXPECT_EQ(r.partitions[k].id, k) << where;
        events += r.partitions[k].events;
      }
      EXPECT_EQ(events, reference.results.eventsCommitted()) << where;
    }
  }
}

// Correctness at scale: 8 node processes of 4 partitions each (32 partitions, 32 threads on this
// machine's cores), window strategy with the kernel's checker on.
TEST(HybridNodes, EightNodesOfFourPartitions) {
  const std::string text = "model: relay_grid\nparams: {x: 8, y: 8, tokens: 3}\n"
                           "simulation: {end: 60 ns, seed: 9, checker: true}\n";
  const auto reference = runThreads(build(text, 1));
  ASSERT_GT(reference.results.eventsCommitted(), 1000u);
  std::vector<uint32_t> layout;
  for (uint32_t k = 0; k < 32; ++k) layout.push_back(k / 4);
  const auto r = runNodes(text, build(text, 32), {}, {}, 3000, layout);
  EXPECT_EQ(r.results.digestHex(), reference.results.digestHex());
  EXPECT_EQ(r.partitions.size(), 32u);
}

// Without an end time the relay grid drains (tokens die after 40 hops): the window strategy ends
// when nothing is left anywhere, the null-message one through the coordinator's quiescence probe.
TEST(AcrossTransports, DrainingModelEndsWithoutEndTime) {
  const std::string text = "model: relay_grid\nparams: {x: 5, y: 4, tokens: 2, max_hops: 40}\n"
                           "simulation: {seed: 3, checker: true}\n";
  for (const char* sync : {"window", "null"}) {
    const std::vector<std::string> overrides{std::string("simulation.sync=") + sync};
    const auto reference = runThreads(build(text, 1, overrides));
    ASSERT_EQ(reference.results.eventsCommitted(), 20u * 2u * 40u) << "every token makes exactly 40 hops";
    for (uint32_t nodes : {2u, 3u}) {
      const auto r = runNodes(text, build(text, nodes, overrides), overrides);
      EXPECT_EQ(r.results.digestHex(), reference.results.digestHex()) << sync << " in " << nodes << " nodes";
    }
    if (std::string(sync) == "window") {  // hybrid nodes end the same way
      const auto r = runNodes(text, build(text, 4, overrides), overrides, {}, 3000, {0, 1, 1, 0});
      EXPECT_EQ(r.results.digestHex(), reference.results.digestHex()) << "4 partitions on 2 nodes";
    }
  }
}

}  // namespace
}  // namespace wafersim
