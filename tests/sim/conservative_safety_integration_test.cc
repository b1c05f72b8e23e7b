// Contract 3 (ARCHITECTURE.md): no partition commits an event that a message still in flight
// could undercut. The checker (RunOptions::checker) verifies it on every cross-partition event; a
// component that breaks its lookahead promise is caught. And runs without an end time stop when
// no event is left anywhere, under both strategies (quiescence detection for null messages).
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/simulation.h"
#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::DeliveryLog;
using testing::Hooks;
using testing::Scripted;
using testing::thrownBy;
using testing::value;

// "liar" promises to send nothing before 1 us, then sends at 10.1 ns to "sink0" in another
// partition. Nothing else happens, so the windows (and null-message bounds) are as wide as the
// promise allows and the early event would land in the past of the receiving partition.
void registerLiar(ComponentRegistry& registry, DeliveryLog& log) {
  testing::registerScripted(registry, "test.Liar", {"out"}, [](const std::string&) {
    Hooks h;
    h.setup = [](Scripted& s) {
      s.promiseNoOutputBefore(SimTime::fromPs(1'000'000));
      s.scheduleSelf(Duration::fromPs(10'000), value(0));
    };
    h.handle = [](Scripted& s, const Event&) { s.send(s.port("out"), value(42)); };
    return h;
  });
  testing::registerScripted(registry, "test.Sink", {"in"}, [&log](const std::string&) {
    Hooks h;
    h.handle = [&log](Scripted& s, const Event& e) { s.record(log, e); };
    return h;
  });
}

SystemGraph liarGraph(size_t sinks) {
  SystemGraph g;
  const ComponentId liar = g.addComponent("liar", "test.Liar");
  std::vector<ComponentId> sinkIds;
  for (size_t i = 0; i < sinks; ++i) sinkIds.push_back(g.addComponent("sink" + std::to_string(i), "test.Sink"));
  g.connect(liar, "out", sinkIds[0], "in", Duration::fromPs(100));
  return g;
}

TEST(BrokenPromiseTest, CheckerStopsTheRunUnderEveryStrategy) {
  for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
    for (uint32_t parts : {2u, 3u}) {
      SCOPED_TRACE(std::string(toString(sync)) + ", " + std::to_string(parts) + " partitions");
      const SystemGraph g = liarGraph(parts);
      DeliveryLog log;
      ComponentRegistry registry;
      registerLiar(registry, log);
      RunOptions options;
      options.sync = sync;
      options.lookahead = LookaheadMode::Model;  // the mode that trusts promises
      options.checker = true;
      const auto t = thrownBy([&] { runInProcess(g, registry, PartitionMap::roundRobin(g.components().size(), parts), options); });
      ASSERT_TRUE(t.thrown);
      EXPECT_EQ(t.kind, ErrorKind::Internal);
      EXPECT_THAT(t.message, HasSubstr("conservative safety"));
      EXPECT_THAT(t.message, HasSubstr("component liar sent an event for 10.1 ns to partition 1"));
      EXPECT_THAT(t.message, HasSubstr("a broken lookahead promise"));
    }
  }
}

TEST(BrokenPromiseTest, LinksModeDoesNotRelyOnPromises) {
  // The same model is safe when lookahead comes from link latencies alone.
  for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
    const SystemGraph g = liarGraph(2);
    DeliveryLog log;
    ComponentRegistry registry;
    registerLiar(registry, log);
    RunOptions options;
    options.sync = sync;
    options.lookahead = LookaheadMode::Links;
    options.checker = true;
    EXPECT_NO_THROW(runInProcess(g, registry, PartitionMap::roundRobin(3, 2), options));
    const auto got = log.of("sink0");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].ps, 10'100);
    EXPECT_EQ(got[0].value, 42u);
  }
}

TEST(BrokenPromiseTest, SinglePartitionHasNobodyToLieTo) {
  const SystemGraph g = liarGraph(1);
  DeliveryLog log;
  ComponentRegistry registry;
  registerLiar(registry, log);
  RunOptions options;
  options.checker = true;
  EXPECT_NO_THROW(runInProcess(g, registry, PartitionMap::single(2), options));
  EXPECT_EQ(log.of("sink0").size(), 1u);
}

TEST(CheckerTest, RejectsAnEventBeforeWhatWasAlreadyCommitted) {
  // Drive one partition of two by hand: after committing everything before 1 ns, an event for
  // 500 ps from the other partition is a safety violation.
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::fromPs(100));
  ComponentRegistry registry;
  testing::registerScripted(registry, "test.Node", {"out", "in"}, [](const std::string&) { return Hooks{}; });
  for (bool checker : {true, false}) {
    PartitionOptions options;
    options.checker = checker;
    Partition p(g, registry, PartitionMap::linear(2, 2), 1, options);
    EXPECT_EQ(p.initPhase(0), 0u);
    p.endInit();
    p.setup();
    p.processUntil(SimTime::fromPs(1000));
    Event late;
    late.time = SimTime::fromPs(500);
    late.order = Event::makeOrder(0, a);
    late.target = b;
    late.port = 1;
    const auto t = thrownBy([&] { p.deliverRemote(0, {late}); });
    EXPECT_EQ(t.thrown, checker);
    if (checker) {
      EXPECT_THAT(t.message, HasSubstr("conservative safety: partition 1 received an event for 500 ps from partition 0 "
                                       "after committing everything before 1 ns"));
    }
    // An event at exactly the bound is fine: only times before it were committed.
    Event onTime = late;
    onTime.time = SimTime::fromPs(1000);
    EXPECT_FALSE(thrownBy([&] { p.deliverRemote(0, {onTime}); }).thrown);
    // An event for a component this partition does not host is always an error.
    Event stray = onTime;
    stray.target = a;
    EXPECT_THAT(thrownBy([&] { p.deliverRemote(0, {stray}); }).message, HasSubstr("does not host"));
  }
}

// A ring of hoppers. Each token carries a hop budget; a hopper forwards a token with budget left
// to a random neighbour after a random extra delay, so the run ends by itself after exactly
// tokens * hops events. Only the components named in `starters` start with tokens.
struct Token {
  uint64_t id;
  uint64_t budget;
};

void registerHopper(ComponentRegistry& registry, uint32_t tokens, uint64_t hops, std::vector<std::string> starters) {
  testing::registerScripted(registry, "test.Hopper", {"next", "prev"}, [=](const std::string& name) {
    Hooks h;
    bool starts = false;
    for (const auto& s : starters) starts = starts || s == name;
    if (starts)
      h.setup = [=](Scripted& s) {
        for (uint32_t t = 0; t < tokens; ++t)
          s.send(s.port("next"), Payload::of(Token{(uint64_t{s.id()} << 32) | t, hops - 1}));
      };
    h.handle = [](Scripted& s, const Event& e) {
      Token t = e.payload.as<Token>();
      s.counter("hops").add();
      if (t.budget == 0) {
        s.counter("finished").add();
        return;
      }
      --t.budget;
      const PortId p = s.random().below(2) == 0 ? s.port("next") : s.port("prev");
      s.send(p, Payload::of(t), Duration::fromPs(static_cast<int64_t>(s.random().below(4)) * 500),
             static_cast<uint32_t>(t.id % 2));
    };
    return h;
  });
}

SystemGraph ring(size_t n) {
  SystemGraph g;
  for (size_t i = 0; i < n; ++i) g.addComponent("h" + std::to_string(i), "test.Hopper");
  for (size_t i = 0; i < n; ++i)
    g.connect(static_cast<ComponentId>(i), "next", static_cast<ComponentId>((i + 1) % n), "prev",
              Duration::fromPs(static_cast<int64_t>(300 + 100 * (i % 3))));
  return g;
}

class QuiescenceTest : public ::testing::TestWithParam<SyncKind> {};

TEST_P(QuiescenceTest, RunWithoutEndStopsWhenNoEventIsLeft) {
  const SystemGraph g = ring(8);
  const std::vector<std::pair<std::string, std::vector<std::string>>> startSets = {
      {"every hopper starts", {"h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7"}},
      {"only h0 starts: other partitions begin idle", {"h0"}},
  };
  for (const auto& [what, starters] : startSets) {
    ComponentRegistry registry;
    const uint32_t tokens = 3;
    const uint64_t hops = 40;
    registerHopper(registry, tokens, hops, starters);
    const uint64_t expectedEvents = starters.size() * tokens * hops;
    uint64_t referenceDigest = 0;
    for (uint32_t parts = 1; parts <= 4; ++parts) {
      for (bool rr : {false, true}) {
        for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model}) {
          SCOPED_TRACE(what + ", " + std::to_string(parts) + " partitions" + (rr ? " round-robin" : " linear") +
                       ", lookahead " + toString(mode));
          RunOptions options;
          options.sync = GetParam();
          options.lookahead = mode;
          options.end = SimTime::never();
          options.checker = true;
          const RunReport r =
              runInProcess(g, registry, rr ? PartitionMap::roundRobin(8, parts) : PartitionMap::linear(8, parts), options);
          EXPECT_EQ(r.events(), expectedEvents);
          uint64_t finished = 0, hopCount = 0;
          for (const auto& c : r.results.components()) {
            if (c.counters.count("finished")) finished += c.counters.at("finished");
            if (c.counters.count("hops")) hopCount += c.counters.at("hops");
          }
          EXPECT_EQ(finished, starters.size() * tokens);
          EXPECT_EQ(hopCount, expectedEvents);
          if (referenceDigest == 0) referenceDigest = r.results.digest();
          EXPECT_EQ(r.results.digest(), referenceDigest);
          EXPECT_LT(r.results.simulatedTime(), SimTime::never());
        }
      }
    }
  }
}

TEST_P(QuiescenceTest, NothingToDoAtAll) {
  const SystemGraph g = ring(4);
  ComponentRegistry registry;
  registerHopper(registry, 0, 1, {});
  for (uint32_t parts = 1; parts <= 4; ++parts) {
    RunOptions options;
    options.sync = GetParam();
    options.checker = true;
    const RunReport r = runInProcess(g, registry, PartitionMap::roundRobin(4, parts), options);
    EXPECT_EQ(r.events(), 0u);
    EXPECT_EQ(r.results.simulatedTime(), SimTime::zero());
  }
}

TEST_P(QuiescenceTest, DisconnectedPartitionsEachRunDry) {
  // Two rings with no link between them, one per partition: no peers, no messages at all.
  SystemGraph g;
  for (int i = 0; i < 6; ++i) g.addComponent("h" + std::to_string(i), "test.Hopper");
  for (int i = 0; i < 3; ++i) {
    g.connect(i, "next", (i + 1) % 3, "prev", Duration::fromPs(300));
    g.connect(3 + i, "next", 3 + (i + 1) % 3, "prev", Duration::fromPs(700));
  }
  ComponentRegistry registry;
  registerHopper(registry, 2, 25, {"h0", "h4"});
  RunOptions options;
  options.sync = GetParam();
  options.checker = true;
  const RunReport one = runInProcess(g, registry, PartitionMap::single(6), options);
  const RunReport two = runInProcess(g, registry, PartitionMap::linear(6, 2), options);
  EXPECT_EQ(one.events(), 2u * 2 * 25);
  EXPECT_EQ(two.events(), one.events());
  EXPECT_EQ(two.results.digest(), one.results.digest());
  for (const auto& p : two.partitions) EXPECT_EQ(p.sync.eventsSent, 0u);
}

TEST_P(QuiescenceTest, AnIsolatedPartitionBesideConnectedOnes) {
  // A ring of four hoppers on partitions 0 and 1 and a ring of two on partition 2, with no link
  // between the rings: partition 2 has no peers at all and runs dry on its own while the others
  // still exchange events; the run must still end.
  SystemGraph g;
  for (int i = 0; i < 6; ++i) g.addComponent("h" + std::to_string(i), "test.Hopper");
  for (int i = 0; i < 4; ++i) g.connect(i, "next", (i + 1) % 4, "prev", Duration::fromPs(300));
  g.connect(4, "next", 5, "prev", Duration::fromPs(700));
  g.connect(5, "next", 4, "prev", Duration::fromPs(700));
  ComponentRegistry registry;
  registerHopper(registry, 2, 30, {"h0", "h2", "h4"});
  RunOptions options;
  options.sync = GetParam();
  options.checker = true;
  const RunReport one = runInProcess(g, registry, PartitionMap::single(6), options);
  EXPECT_EQ(one.events(), 3u * 2 * 30);
  for (const PartitionMap& map : {PartitionMap{3, {0, 0, 1, 1, 2, 2}}, PartitionMap{3, {0, 1, 0, 1, 2, 2}},
                                  PartitionMap{4, {0, 1, 0, 1, 2, 3}}, PartitionMap{3, {0, 1, 1, 1, 2, 2}}}) {
    const RunReport r = runInProcess(g, registry, map, options);
    EXPECT_EQ(r.events(), one.events());
    EXPECT_EQ(r.results.digest(), one.results.digest());
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, QuiescenceTest, ::testing::Values(SyncKind::Window, SyncKind::NullMessage),
                         [](const ::testing::TestParamInfo<SyncKind>& info) {
                           return info.param == SyncKind::Window ? std::string("Window") : std::string("NullMessage");
                         });

}  // namespace
}  // namespace wafersim
