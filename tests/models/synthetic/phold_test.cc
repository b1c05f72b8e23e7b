// PHOLD closed forms (models/synthetic/phold.h).
#include "models/synthetic/phold.h"

#include <string>

#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace wafersim::synthetic {
namespace {

RunReport runPhold(const PholdConfig& c, SimTime end, uint32_t partitions = 1, uint64_t seed = 1,
                   LookaheadMode mode = LookaheadMode::Model) {
  ComponentRegistry registry;
  registerPhold(registry);
  const SystemGraph g = buildPhold(c);
  RunOptions options;
  options.end = end;
  options.seed = seed;
  options.lookahead = mode;
  options.checker = true;
  return runInProcess(g, registry, PartitionMap::roundRobin(g.components().size(), partitions), options);
}

struct Totals {
  uint64_t events = 0, sentRemote = 0;
};

Totals totals(const Results& r) {
  Totals t;
  for (const auto& c : r.components()) {
    // Every committed event of an LP is one "events" count: PHOLD has no other kind of event.
    EXPECT_EQ(c.counters.at("events"), c.eventsCommitted) << c.name;
    t.events += c.counters.at("events");
    t.sentRemote += c.counters.at("sent_remote");
  }
  return t;
}

TEST(PholdTest, BuildsOneFabric) {
  PholdConfig c;
  c.lps = 10;
  c.lookahead = Duration::fromPs(123);
  const SystemGraph g = buildPhold(c);
  ASSERT_EQ(g.components().size(), 10u);
  ASSERT_EQ(g.fabrics().size(), 1u);
  EXPECT_EQ(g.fabrics()[0].members.size(), 10u);
  EXPECT_EQ(g.fabrics()[0].latency, Duration::fromPs(123));
  EXPECT_TRUE(g.links().empty());
  EXPECT_EQ(g.component(3).name, "lp3");
  EXPECT_EQ(g.component(3).params.text("remote"), "0.25");
}

TEST(PholdTest, EventCountersSumToCommittedEvents) {
  for (uint32_t parts : {1u, 3u}) {
    for (Duration service : {Duration::zero(), Duration::fromPs(700)}) {
      PholdConfig c;
      c.lps = 12;
      c.initialEvents = 3;
      c.remote = 0.5;
      c.service = service;
      const RunReport r = runPhold(c, SimTime::fromPs(50'000), parts);
      const Totals t = totals(r.results);
      EXPECT_GT(t.events, 500u);
      EXPECT_EQ(t.events, r.events());
      EXPECT_EQ(t.events, r.results.eventsCommitted());
      // Each successor is drawn remote with probability 1/2, and then lands on another LP with
      // probability 11/12; sends = events + initial events, all but the last few committed.
      const double remoteShare = static_cast<double>(t.sentRemote) / static_cast<double>(t.events + 36);
      EXPECT_NEAR(remoteShare, 0.5 * 11.0 / 12.0, 0.06);
    }
  }
}

TEST(PholdTest, LocalOnlyPholdWithoutRandomDelayIsAClock) {
  // remote = 0 and mean = 0: every event schedules its successor exactly one lookahead later on
  // the same LP, so each LP commits initial_events events per lookahead.
  PholdConfig c;
  c.lps = 5;
  c.initialEvents = 3;
  c.remote = 0;
  c.mean = Duration::zero();
  c.lookahead = Duration::fromPs(400);
  for (int64_t n : {1, 4, 25}) {
    const RunReport r = runPhold(c, SimTime::zero() + c.lookahead * n + Duration::fromPs(1), 2);
    const Totals t = totals(r.results);
    EXPECT_EQ(t.events, 5u * 3 * static_cast<uint64_t>(n));
    EXPECT_EQ(t.sentRemote, 0u);
    for (const auto& comp : r.results.components()) EXPECT_EQ(comp.eventsCommitted, 3u * static_cast<uint64_t>(n));
    EXPECT_EQ(r.results.simulatedTime(), SimTime::zero() + c.lookahead * n);
  }
}

TEST(PholdTest, ComputeModeIsAFifoServer) {
  // remote = 0, mean = 0, service S > lookahead L, two initial jobs: the jobs complete at S, 2S, ...
  // (the server never idles), each successor arrives L after its job completes, so the k-th
  // arrival is at k S + L and each LP commits exactly the arrivals before the end.
  PholdConfig c;
  c.lps = 4;
  c.initialEvents = 2;
  c.remote = 0;
  c.mean = Duration::zero();
  c.lookahead = Duration::fromPs(100);
  c.service = Duration::fromPs(1000);
  for (int64_t n : {1, 3, 10}) {
    for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model}) {
      const SimTime end = SimTime::zero() + c.service * n + c.lookahead + Duration::fromPs(1);
      const RunReport r = runPhold(c, end, 2, 1, mode);
      for (const auto& comp : r.results.components()) EXPECT_EQ(comp.eventsCommitted, static_cast<uint64_t>(n));
      EXPECT_EQ(r.results.simulatedTime(), SimTime::zero() + c.service * n + c.lookahead);
    }
  }
}

TEST(PholdTest, RemoteOnlyPholdSpreadsEvents) {
  PholdConfig c;
  c.lps = 8;
  c.remote = 1.0;
  const RunReport r = runPhold(c, SimTime::fromPs(40'000), 2);
  const Totals t = totals(r.results);
  EXPECT_GT(t.sentRemote, t.events * 3 / 4);  // 7 of 8 draws land elsewhere
  for (const auto& comp : r.results.components()) EXPECT_GT(comp.eventsCommitted, 0u) << comp.name;
}

}  // namespace
}  // namespace wafersim::synthetic
