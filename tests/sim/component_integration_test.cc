// Links and fabrics deliver at exactly now + latency + extra, in the event order, whatever the
// partitioning and the synchronization strategy (sim/component.h, sim/system_graph.h).
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/simulation.h"
#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using testing::Delivery;
using testing::DeliveryLog;
using testing::Hooks;
using testing::Scripted;
using testing::value;

struct RunConfig {
  uint32_t partitions;
  SyncKind sync;
  LookaheadMode lookahead;
  bool roundRobin;
};

std::string describe(const RunConfig& c) {
  return std::to_string(c.partitions) + " partitions " + (c.roundRobin ? "round-robin" : "linear") + ", sync " +
         toString(c.sync) + ", lookahead " + toString(c.lookahead);
}

// Every way to run a graph of `components` components on up to `maxPartitions` partitions.
std::vector<RunConfig> allConfigs(size_t components, uint32_t maxPartitions) {
  std::vector<RunConfig> out;
  for (uint32_t p = 1; p <= maxPartitions && p <= components; ++p)
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage})
      for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model})
        for (bool rr : {false, true}) {
          if (p == 1 && rr) continue;
          out.push_back({p, sync, mode, rr});
        }
  return out;
}

RunReport run(const SystemGraph& graph, const ComponentRegistry& registry, const RunConfig& c,
              SimTime end = SimTime::never()) {
  const size_t n = graph.components().size();
  const PartitionMap map = c.roundRobin ? PartitionMap::roundRobin(n, c.partitions) : PartitionMap::linear(n, c.partitions);
  RunOptions options;
  options.sync = c.sync;
  options.lookahead = c.lookahead;
  options.end = end;
  options.checker = true;
  return runInProcess(graph, registry, map, options);
}

std::vector<std::pair<int64_t, uint64_t>> timesAndValues(const std::vector<Delivery>& log) {
  std::vector<std::pair<int64_t, uint64_t>> out;
  for (const auto& d : log) out.emplace_back(d.ps, d.value);
  return out;
}

using TimeValue = std::pair<int64_t, uint64_t>;

TEST(LinkTest, ArrivesAtNowPlusLatencyPlusExtra) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::fromPs(700));
  for (const RunConfig& c : allConfigs(2, 2)) {
    SCOPED_TRACE(describe(c));
    DeliveryLog log;
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Node", {"out", "in"}, [&](const std::string& name) {
      Hooks h;
      if (name == "a") {
        h.setup = [](Scripted& s) {
          s.send(s.port("out"), value(1));
          s.send(s.port("out"), value(2), Duration::fromPs(250));
          s.scheduleSelf(Duration::fromPs(10'000), value(99));
        };
        h.handle = [&](Scripted& s, const Event& e) {
          s.record(log, e);
          s.send(s.port("out"), value(3), Duration::fromPs(33));
        };
      } else {
        h.handle = [&](Scripted& s, const Event& e) { s.record(log, e); };
      }
      return h;
    });
    const RunReport r = run(g, registry, c);
    EXPECT_THAT(timesAndValues(log.of("b")),
                ::testing::ElementsAre(TimeValue{700, 1}, TimeValue{950, 2}, TimeValue{10'733, 3}));
    EXPECT_THAT(timesAndValues(log.of("a")), ::testing::ElementsAre(TimeValue{10'000, 99}));
    for (const auto& d : log.of("b")) {
      EXPECT_EQ(d.port, 1u);  // "in" on b
      EXPECT_EQ(d.source, a);
    }
    const Delivery self = log.of("a").at(0);
    EXPECT_EQ(self.port, kSelfPort);
    EXPECT_EQ(self.source, a);
    EXPECT_EQ(r.events(), 4u);
    EXPECT_EQ(r.results.simulatedTime(), SimTime::fromPs(10'733));
  }
}

TEST(LinkTest, AsymmetricLatencies) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connectAsymmetric(a, "out", b, "in", Duration::fromPs(300), Duration::fromPs(1200));
  for (const RunConfig& c : allConfigs(2, 2)) {
    SCOPED_TRACE(describe(c));
    DeliveryLog log;
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Node", {"out", "in"}, [&](const std::string& name) {
      Hooks h;
      const std::string reply = name == "a" ? "out" : "in";
      if (name == "a") h.setup = [](Scripted& s) { s.send(s.port("out"), value(0)); };
      h.handle = [&log, reply](Scripted& s, const Event& e) {
        s.record(log, e);
        const uint64_t v = e.payload.as<uint64_t>();
        if (v < 5) s.send(s.port(reply), value(v + 1));
      };
      return h;
    });
    run(g, registry, c);
    // a -> b takes 300 ps, b -> a 1200 ps.
    EXPECT_THAT(timesAndValues(log.of("b")),
                ::testing::ElementsAre(TimeValue{300, 0}, TimeValue{1800, 2}, TimeValue{3300, 4}));
    EXPECT_THAT(timesAndValues(log.of("a")),
                ::testing::ElementsAre(TimeValue{1500, 1}, TimeValue{3000, 3}, TimeValue{4500, 5}));
    for (const auto& d : log.of("a")) EXPECT_EQ(d.source, b);
  }
}

TEST(FabricTest, SendToDeliversToTheMemberByIndex) {
  SystemGraph g;
  std::vector<ComponentId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(g.addComponent("m" + std::to_string(i), "test.Member"));
  // Member indices follow the fabric's list, not the component ids.
  const std::vector<ComponentId> members = {ids[2], ids[0], ids[3], ids[1]};
  g.addFabric("net", "fab", members, Duration::fromPs(250));
  for (const RunConfig& c : allConfigs(4, 4)) {
    SCOPED_TRACE(describe(c));
    DeliveryLog log;
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Member", {"fab"}, [&](const std::string& name) {
      Hooks h;
      if (name == "m0") {
        h.setup = [](Scripted& s) {
          const PortId fab = s.port("fab");
          EXPECT_EQ(s.fabricSize(fab), 4u);
          EXPECT_EQ(s.fabricIndexOfSelf(fab), 1u);
          for (uint32_t k = 0; k < 4; ++k) s.sendTo(fab, k, value(k), Duration::fromPs(10 * k));
        };
      }
      h.handle = [&](Scripted& s, const Event& e) {
        s.record(log, e);
        // Each member got the message addressed to its own index.
        EXPECT_EQ(e.payload.as<uint64_t>(), s.fabricIndexOfSelf(s.port("fab"))) << s.name();
      };
      return h;
    });
    const RunReport r = run(g, registry, c);
    EXPECT_EQ(r.events(), 4u);
    // member k = members[k] receives at 250 + 10 k, including m0 sending to itself.
    EXPECT_THAT(timesAndValues(log.of("m2")), ::testing::ElementsAre(TimeValue{250, 0}));
    EXPECT_THAT(timesAndValues(log.of("m0")), ::testing::ElementsAre(TimeValue{260, 1}));
    EXPECT_THAT(timesAndValues(log.of("m3")), ::testing::ElementsAre(TimeValue{270, 2}));
    EXPECT_THAT(timesAndValues(log.of("m1")), ::testing::ElementsAre(TimeValue{280, 3}));
    for (const auto& d : log.all()) {
      EXPECT_EQ(d.source, ids[0]);
      EXPECT_EQ(d.port, 0u);
    }
  }
}

TEST(EventOrderTest, SimultaneousArrivalsFollowPriorityThenSourceThenSequence) {
  SystemGraph g;
  const ComponentId s0 = g.addComponent("s0", "test.Node");
  const ComponentId s1 = g.addComponent("s1", "test.Node");
  const ComponentId s2 = g.addComponent("s2", "test.Node");
  const ComponentId r = g.addComponent("r", "test.Sink");
  g.connect(s0, "out", r, "a", Duration::fromPs(1000));
  g.connect(s1, "out", r, "b", Duration::fromPs(500));
  g.connect(s2, "out", r, "c", Duration::fromPs(1000));
  for (const RunConfig& c : allConfigs(4, 4)) {
    SCOPED_TRACE(describe(c));
    DeliveryLog log;
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Node", {"out"}, [&](const std::string& name) {
      Hooks h;
      // Everything lands on r at 1000 ps; sent in an order unlike the order of delivery.
      if (name == "s0") h.setup = [](Scripted& s) { s.send(s.port("out"), value(100), Duration::zero(), 1); };
      if (name == "s1")
        h.setup = [](Scripted& s) {
          s.send(s.port("out"), value(110), Duration::fromPs(500), 0);
          s.send(s.port("out"), value(111), Duration::fromPs(500), 0);
          s.send(s.port("out"), value(112), Duration::fromPs(500), 2);
        };
      if (name == "s2") h.setup = [](Scripted& s) { s.send(s.port("out"), value(120), Duration::zero(), 0); };
      return h;
    });
    testing::registerScripted(registry, "test.Sink", {"a", "b", "c"}, [&](const std::string&) {
      Hooks h;
      h.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(1000), value(130), 0); };
      h.handle = [&](Scripted& s, const Event& e) { s.record(log, e); };
      return h;
    });
    run(g, registry, c);
    const auto got = log.of("r");
    std::vector<uint64_t> values;
    for (const auto& d : got) {
      values.push_back(d.value);
      EXPECT_EQ(d.ps, 1000);
    }
    // priority 0: s1 (seq 0, 1), s2, r's own self-event (source 3); priority 1: s0; priority 2: s1.
    EXPECT_THAT(values, ::testing::ElementsAre(110, 111, 120, 130, 100, 112));
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[0].source, s1);
    EXPECT_EQ(got[1].seq, got[0].seq + 1);
    EXPECT_EQ(got[3].source, r);
    EXPECT_EQ(got[4].source, s0);
    EXPECT_EQ(got[4].priority, 1u);
  }
}

TEST(EventOrderTest, ZeroLatencyLinksInsideAPartition) {
  // A zero-latency link is fine inside one partition: the event is delivered at the same instant,
  // after the event that caused it.
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::zero());
  for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
    DeliveryLog log;
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Node", {"out", "in"}, [&](const std::string& name) {
      Hooks h;
      if (name == "a") h.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(5), value(1)); };
      h.handle = [&log, name](Scripted& s, const Event& e) {
        s.record(log, e);
        const uint64_t v = e.payload.as<uint64_t>();
        if (v < 4) s.send(s.port(name == "a" ? "out" : "in"), value(v + 1));
      };
      return h;
    });
    run(g, registry, {1, sync, LookaheadMode::Links, false});
    const auto all = log.all();
    ASSERT_EQ(all.size(), 4u);
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].ps, 5);
      EXPECT_EQ(all[i].value, i + 1);
      EXPECT_EQ(all[i].component, i % 2 == 0 ? "a" : "b");
      EXPECT_EQ(all[i].source, i == 0 ? a : (i % 2 == 0 ? b : a));
    }
  }
}

TEST(RunTest, EndTimeCommitsOnlyEarlierEvents) {
  // A clock ticking every 100 ps: with end = 1 ns, ticks at 0 .. 900 ps are committed (10), the
  // one at exactly 1 ns is not.
  SystemGraph g;
  g.addComponent("clock", "test.Clock");
  g.addComponent("other", "test.Clock");
  for (const RunConfig& c : allConfigs(2, 2)) {
    SCOPED_TRACE(describe(c));
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Clock", {}, [](const std::string&) {
      Hooks h;
      h.setup = [](Scripted& s) { s.scheduleSelf(Duration::zero(), value(0)); };
      h.handle = [](Scripted& s, const Event&) {
        s.counter("ticks").add();
        s.scheduleSelf(Duration::fromPs(100), value(0));
      };
      return h;
    });
    const RunReport r = run(g, registry, c, SimTime::fromPs(1000));
    EXPECT_EQ(r.events(), 20u);
    EXPECT_EQ(r.results.simulatedTime(), SimTime::fromPs(900));
    for (const auto& rec : r.results.components()) EXPECT_EQ(rec.counters.at("ticks"), 10u) << rec.name;
  }
}

}  // namespace
}  // namespace wafersim
