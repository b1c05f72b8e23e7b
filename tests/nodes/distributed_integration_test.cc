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
  }
}

}  // namespace
}  // namespace wafersim
