// RelayGrid closed forms (models/synthetic/relay_grid.h): the init exchange gives each relay the
// sum of its neighbours' ids and then the sum of their sums, on any partitioning; tokens are
// conserved and every committed event is one received token.
#include "models/synthetic/relay_grid.h"

#include <algorithm>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace wafersim::synthetic {
namespace {

RunReport runGrid(const RelayGridConfig& c, SimTime end, uint32_t partitions, bool roundRobin = false,
                  SyncKind sync = SyncKind::Window) {
  ComponentRegistry registry;
  registerRelayGrid(registry);
  const SystemGraph g = buildRelayGrid(c);
  const size_t n = g.components().size();
  RunOptions options;
  options.end = end;
  options.sync = sync;
  options.checker = true;
  return runInProcess(g, registry,
                      roundRobin ? PartitionMap::roundRobin(n, partitions) : PartitionMap::linear(n, partitions),
                      options);
}

TEST(RelayGridTest, BuildsATorusWithMixedLatencies) {
  const RelayGridConfig c{6, 4, 3, Duration::fromPs(1500)};
  const SystemGraph g = buildRelayGrid(c);
  ASSERT_EQ(g.components().size(), 24u);
  EXPECT_EQ(g.links().size(), 48u);
  for (const auto& l : g.links()) {
    const uint32_t i = l.a % 6, j = l.a / 6;
    const Duration expected = l.portA == "east" ? Duration::fromPs(1000 * (1 + i % 3)) : Duration::fromPs(250 * (1 + j % 2));
    EXPECT_TRUE(l.portA == "east" || l.portA == "south") << l.portA;
    EXPECT_EQ(l.latencyAB, expected);
    EXPECT_EQ(l.latencyBA, expected);
  }
  // Every third relay is a FIFO server.
  EXPECT_EQ(g.component(2).params.text("service"), "1500 ps");
  EXPECT_EQ(g.component(3).params.text("service"), "0 ps");
  EXPECT_EQ(g.component(5).params.text("tokens"), "3");
}

TEST(RelayGridTest, InitExchangeSumsNeighbourIds) {
  const uint32_t x = 5, y = 3;
  auto id = [&](uint32_t i, uint32_t j) { return uint64_t{j * x + i}; };
  std::map<uint64_t, uint64_t> idSum;  // by id: the sum of the four neighbours' ids
  for (uint32_t j = 0; j < y; ++j)
    for (uint32_t i = 0; i < x; ++i)
      idSum[id(i, j)] = id((i + 1) % x, j) + id((i + x - 1) % x, j) + id(i, (j + 1) % y) + id(i, (j + y - 1) % y);
  for (uint32_t parts = 1; parts <= 4; ++parts) {
    for (bool rr : {false, true}) {
      const RunReport r = runGrid({x, y, 1, Duration::fromPs(1500)}, SimTime::fromPs(1), parts, rr);
      for (const auto& c : r.results.components()) {
        const uint32_t i = c.id % x, j = c.id / x;
        EXPECT_EQ(c.counters.at("neighbour_id_sum"), idSum[c.id]) << c.name;
        const uint64_t sumOfSums = idSum[id((i + 1) % x, j)] + idSum[id((i + x - 1) % x, j)] +
                                   idSum[id(i, (j + 1) % y)] + idSum[id(i, (j + y - 1) % y)];
        EXPECT_EQ(c.counters.at("neighbour_sum_sum"), sumOfSums) << c.name;
      }
    }
  }
}

TEST(RelayGridTest, EveryEventIsAReceivedToken) {
  const RelayGridConfig c{6, 4, 3, Duration::fromPs(1500)};
  for (uint32_t parts : {1u, 3u}) {
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      const RunReport r = runGrid(c, SimTime::fromPs(60'000), parts, true, sync);
      uint64_t received = 0;
      for (const auto& comp : r.results.components()) {
        EXPECT_EQ(comp.counters.at("received"), comp.eventsCommitted) << comp.name;
        EXPECT_EQ(comp.histograms.at("hops").count, comp.eventsCommitted) << comp.name;
        // Only the servers (every third relay) queue tokens.
        const bool server = comp.id % 3 == 2;
        EXPECT_EQ(comp.histograms.at("wait_ps").count, server ? comp.eventsCommitted : 0) << comp.name;
        received += comp.counters.at("received");
      }
      EXPECT_EQ(received, r.events());
      EXPECT_GT(received, 1000u);
    }
  }
}

TEST(RelayGridTest, WithoutServersEveryTokenKeepsMoving) {
  // service 0, one token per relay: a hop takes one link latency (250 ps to 3 ns) plus 0 or 1 ns,
  // so by 40 ns every token has made at least 9 hops (9 * 4 ns < 40 ns) and none more than 160.
  const RelayGridConfig c{6, 4, 1, Duration::zero()};
  const RunReport r = runGrid(c, SimTime::fromPs(40'000), 2, true);
  uint64_t received = 0;
  int64_t maxHops = 0;
  for (const auto& comp : r.results.components()) {
    received += comp.histograms.at("hops").count;
    if (comp.histograms.at("hops").count > 0) maxHops = std::max(maxHops, comp.histograms.at("hops").max);
    EXPECT_EQ(comp.histograms.at("wait_ps").count, 0u);
  }
  EXPECT_EQ(received, r.events());
  EXPECT_GE(received, 24u * 9);
  EXPECT_LE(received, 24u * 160);
  EXPECT_GE(maxHops, 9);
  EXPECT_LE(maxHops, 160);
}

TEST(RelayGridTest, WithMaxHopsTheRunDrainsByItself) {
  // Each token dies on its max_hops-th arrival: with no end time the run stops after exactly
  // x * y * tokens * max_hops events, on any partitioning and under both strategies.
  const RelayGridConfig c{4, 3, 2, Duration::fromPs(1500), 15};
  uint64_t digest = 0;
  for (uint32_t parts : {1u, 2u, 4u}) {
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      const RunReport r = runGrid(c, SimTime::never(), parts, true, sync);
      uint64_t dropped = 0;
      for (const auto& comp : r.results.components()) dropped += comp.counters.at("dropped");
      EXPECT_EQ(r.events(), 4u * 3 * 2 * 15);
      EXPECT_EQ(dropped, 4u * 3 * 2);
      if (digest == 0) digest = r.results.digest();
      EXPECT_EQ(r.results.digest(), digest);
    }
  }
}

}  // namespace
}  // namespace wafersim::synthetic
