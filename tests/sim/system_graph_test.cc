// Bad systems are refused before anything runs, with messages that name the component and the
// port (sim/system_graph.h validate(), sim/partition_map.h validatePartitioning(), runInProcess).
// A few mistakes can only be seen while running (a negative extra delay); those stop the run with
// the same kind of message.
#include "sim/system_graph.h"

#include <atomic>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/partition_map.h"
#include "sim/simulation.h"
#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::Hooks;
using testing::Scripted;
using testing::thrownBy;
using testing::value;

class BadInputTest : public ::testing::Test {
 protected:
  BadInputTest() {
    // "test.Node": ports out and in, both required; "test.Loose": an optional port "spare" too.
    testing::registerScripted(
        registry_, "test.Node", {"out", "in"}, [](const std::string&) { return Hooks{}; }, constructed_,
        {"out", "in"});
    testing::registerScripted(
        registry_, "test.Loose", {"out", "in", "spare"}, [](const std::string&) { return Hooks{}; }, constructed_,
        {"out", "in"});
    ParamSpec rate{"rate", ParamType::Integer, "1", "events per tick", 1, 10};
    ComponentType withParams;
    withParams.name = "test.WithParams";
    withParams.params = {rate};
    withParams.factory = [this](const ComponentContext& ctx) {
      ++*constructed_;
      return std::make_unique<Scripted>(ctx, Hooks{});
    };
    registry_.add(withParams);
  }

  // Runs `graph` on `partitions` partitions (linear) and returns what was thrown; checks that the
  // refusal came before any component was built.
  testing::Thrown refusedBeforeRun(const SystemGraph& graph, uint32_t partitions = 1) {
    RunOptions options;
    options.checker = true;
    auto t = thrownBy(
        [&] { runInProcess(graph, registry_, PartitionMap::linear(graph.components().size(), partitions), options); });
    EXPECT_TRUE(t.thrown);
    EXPECT_EQ(t.kind, ErrorKind::InvalidConfig) << t.message;
    EXPECT_EQ(constructed_->load(), 0) << "components were built before the error was found";
    return t;
  }

  // Two components a and b, a.out -> b.in and b.out -> a.in.
  SystemGraph pair(Duration latency = Duration::fromPs(1000)) {
    SystemGraph g;
    const ComponentId a = g.addComponent("a", "test.Node");
    const ComponentId b = g.addComponent("b", "test.Node");
    g.connect(a, "out", b, "in", latency);
    g.connect(b, "out", a, "in", latency);
    return g;
  }

  ComponentRegistry registry_;
  std::shared_ptr<std::atomic<int>> constructed_ = std::make_shared<std::atomic<int>>(0);
};

TEST_F(BadInputTest, AValidPairRuns) {
  const SystemGraph g = pair();
  EXPECT_NO_THROW(g.validate(registry_));
  EXPECT_NO_THROW(validatePartitioning(g, PartitionMap::linear(2, 2)));
  RunOptions options;
  EXPECT_NO_THROW(runInProcess(g, registry_, PartitionMap::linear(2, 2), options));
  EXPECT_EQ(constructed_->load(), 2);
}

TEST_F(BadInputTest, ZeroLatencyLinkAcrossPartitions) {
  const SystemGraph g = pair(Duration::zero());
  // Fine inside one partition...
  EXPECT_NO_THROW(validatePartitioning(g, PartitionMap::single(2)));
  // ...refused across two.
  const auto t = refusedBeforeRun(g, 2);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port out: zero latency across partitions 0 and 1"));
  const auto direct = thrownBy([&] { validatePartitioning(g, PartitionMap::linear(2, 2)); });
  EXPECT_EQ(direct.message, t.message);
}

TEST_F(BadInputTest, ZeroLatencyInOneDirectionOfAnAsymmetricLink) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connectAsymmetric(a, "out", b, "in", Duration::fromPs(100), Duration::zero());
  g.connectAsymmetric(b, "out", a, "in", Duration::fromPs(100), Duration::fromPs(100));
  const auto t = refusedBeforeRun(g, 2);
  EXPECT_THAT(t.message, HasSubstr("component b (test.Node) port in: zero latency across partitions 1 and 0"));
}

TEST_F(BadInputTest, ZeroLatencyFabricAcrossPartitions) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Loose");
  const ComponentId b = g.addComponent("b", "test.Loose");
  g.connect(a, "out", b, "in", Duration::fromPs(100));
  g.connect(b, "out", a, "in", Duration::fromPs(100));
  g.addFabric("bus", "spare", {a, b}, Duration::zero());
  EXPECT_NO_THROW(validatePartitioning(g, PartitionMap::single(2)));
  const auto t = refusedBeforeRun(g, 2);
  EXPECT_THAT(t.message, HasSubstr("component b (test.Loose) port spare: zero-latency fabric bus spans partitions 0 and 1"));
}

TEST_F(BadInputTest, UnknownComponentType) {
  SystemGraph g = pair();
  g.addComponent("mystery", "test.Nope");
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component mystery (test.Nope): unknown component type \"test.Nope\""));
  EXPECT_THAT(t.message, HasSubstr("known: test.Loose, test.Node, test.WithParams"));
}

TEST_F(BadInputTest, DanglingPort) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::fromPs(100));  // a.in and b.out stay unconnected
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port in: dangling (declared but not connected)"));
}

TEST_F(BadInputTest, OptionalPortMayStayUnconnected) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Loose");
  const ComponentId b = g.addComponent("b", "test.Loose");
  g.connect(a, "out", b, "in", Duration::fromPs(100));
  g.connect(b, "out", a, "in", Duration::fromPs(100));
  EXPECT_NO_THROW(g.validate(registry_));
}

TEST_F(BadInputTest, NegativeLinkLatency) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::fromPs(100));
  g.connect(b, "out", a, "in", Duration::fromPs(-1000));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component b (test.Node) port out: negative link latency -1 ns"));
  EXPECT_THAT(t.message, HasSubstr("link b.out <-> a.in"));
}

TEST_F(BadInputTest, NegativeLatencyInTheReverseDirection) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connectAsymmetric(a, "out", b, "in", Duration::fromPs(100), Duration::fromPs(-5));
  g.connect(b, "out", a, "in", Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component b (test.Node) port in: negative link latency -5 ps"));
}

TEST_F(BadInputTest, NegativeFabricLatency) {
  SystemGraph h;
  const ComponentId a = h.addComponent("a", "test.Loose");
  const ComponentId b = h.addComponent("b", "test.Loose");
  h.connect(a, "out", b, "in", Duration::fromPs(100));
  h.connect(b, "out", a, "in", Duration::fromPs(100));
  h.addFabric("bus", "spare", {a, b}, Duration::fromPs(-1));
  const auto t = refusedBeforeRun(h);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port spare: negative fabric latency -1 ps on fabric bus"));
}

TEST_F(BadInputTest, PortConnectedTwice) {
  SystemGraph g = pair();
  const ComponentId c = g.addComponent("c", "test.Node");
  g.connect(c, "out", 0, "in", Duration::fromPs(100));  // a.in is already taken by b.out
  g.connect(0, "out", c, "in", Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port in: connected twice"));
  EXPECT_THAT(t.message, HasSubstr("link b.out <-> a.in"));
  EXPECT_THAT(t.message, HasSubstr("link c.out <-> a.in"));
}

TEST_F(BadInputTest, PortInALinkAndAFabric) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Loose");
  const ComponentId b = g.addComponent("b", "test.Loose");
  g.connect(a, "out", b, "in", Duration::fromPs(100));
  g.connect(b, "out", a, "in", Duration::fromPs(100));
  g.addFabric("bus", "out", {a, b}, Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port out: connected twice"));
  EXPECT_THAT(t.message, HasSubstr("fabric bus"));
}

TEST_F(BadInputTest, PortLinkedToItself) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Loose");
  g.connect(a, "out", a, "out", Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port out: linked to itself"));
}

TEST_F(BadInputTest, UnknownPortName) {
  SystemGraph g = pair();
  const ComponentId c = g.addComponent("c", "test.Loose");
  g.connect(c, "out", 0, "bogus", Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port bogus: no such port (declared: out, in)"));
}

TEST_F(BadInputTest, UnknownFabricPortName) {
  SystemGraph g = pair();
  g.addFabric("bus", "nope", {0, 1}, Duration::fromPs(100));
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port nope: no such port"));
}

TEST_F(BadInputTest, DuplicateComponentName) {
  SystemGraph g = pair();
  g.addComponent("a", "test.WithParams");
  const auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("two components are named \"a\""));
}

TEST_F(BadInputTest, BadParameterNamesTheComponentAndTheKey) {
  SystemGraph g = pair();
  g.addComponent("p", "test.WithParams", {{"rate", "11"}});
  auto t = refusedBeforeRun(g);
  EXPECT_THAT(t.message, HasSubstr("component p (test.WithParams).rate: 11 is above the maximum 10"));

  SystemGraph h = pair();
  h.addComponent("p", "test.WithParams", {{"speed", "3"}});
  t = refusedBeforeRun(h);
  EXPECT_THAT(t.message, HasSubstr("component p (test.WithParams): unknown parameter \"speed\" (known: rate)"));
}

TEST_F(BadInputTest, LinkToAnUnknownComponentId) {
  SystemGraph g = pair();
  const auto t = thrownBy([&] { g.connect(0, "out", 7, "in", Duration::fromPs(1)); });
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("unknown component ids 0 and 7"));
  EXPECT_THAT(thrownBy([&] { g.addFabric("bus", "x", {0, 9}, Duration::fromPs(1)); }).message,
              HasSubstr("fabric bus: unknown component id 9"));
}

// Mistakes only visible while running: the run stops with an error naming component and port.
class RunTimeErrorTest : public ::testing::Test {
 protected:
  testing::Thrown runPair(Hooks hooksOfA, uint32_t partitions, SyncKind sync = SyncKind::Window) {
    SystemGraph g;
    const ComponentId a = g.addComponent("a", "test.Loose");
    const ComponentId b = g.addComponent("b", "test.Loose");
    g.connect(a, "out", b, "in", Duration::fromPs(1000));
    g.connect(b, "out", a, "in", Duration::fromPs(1000));
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Loose", {"out", "in", "spare"},
                              [hooksOfA](const std::string& name) { return name == "a" ? hooksOfA : Hooks{}; });
    RunOptions options;
    options.sync = sync;
    options.checker = true;
    return thrownBy([&] { runInProcess(g, registry, PartitionMap::linear(2, partitions), options); });
  }
};

TEST_F(RunTimeErrorTest, NegativeExtraDelayAtSend) {
  for (uint32_t parts : {1u, 2u}) {
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      Hooks h;
      h.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(500), value(0)); };
      h.handle = [](Scripted& s, const Event&) { s.send(s.port("out"), value(1), Duration::fromPs(-1)); };
      const auto t = runPair(h, parts, sync);
      EXPECT_TRUE(t.thrown);
      EXPECT_EQ(t.kind, ErrorKind::InvalidConfig);
      EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port out: negative delay -1 ps"));
    }
  }
}

TEST_F(RunTimeErrorTest, NegativeSelfDelay) {
  Hooks h;
  h.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(-2000), value(0)); };
  const auto t = runPair(h, 1);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose): self-event with negative delay -2 ns"));
}

TEST_F(RunTimeErrorTest, SendOnAnUnconnectedOptionalPort) {
  Hooks h;
  h.setup = [](Scripted& s) { s.send(s.port("spare"), value(1)); };
  const auto t = runPair(h, 2);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port spare: send on an unconnected port"));
}

TEST_F(RunTimeErrorTest, SendOnAPortNotDeclared) {
  Hooks h;
  h.setup = [](Scripted& s) { s.send(s.port("missing"), value(1)); };
  const auto t = runPair(h, 1);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) has no port \"missing\""));
}

TEST_F(RunTimeErrorTest, SendToOnALinkAndSendOnAFabricAreRefused) {
  Hooks h;
  h.setup = [](Scripted& s) { s.sendTo(s.port("out"), 0, value(1)); };
  auto t = runPair(h, 1);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Loose) port out: sendTo() on a port that is not a fabric"));
}

TEST(FabricErrorTest, SendToAMissingMemberAndSendOnAFabric) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Member");
  const ComponentId b = g.addComponent("b", "test.Member");
  g.addFabric("bus", "fab", {a, b}, Duration::fromPs(100));
  for (int mode = 0; mode < 3; ++mode) {
    ComponentRegistry registry;
    testing::registerScripted(registry, "test.Member", {"fab"}, [mode](const std::string& name) {
      Hooks h;
      if (name != "a") return h;
      if (mode == 0) h.setup = [](Scripted& s) { s.sendTo(s.port("fab"), 2, value(1)); };
      if (mode == 1) h.setup = [](Scripted& s) { s.send(s.port("fab"), value(1)); };
      if (mode == 2) h.setup = [](Scripted& s) { s.sendTo(s.port("fab"), 1, value(1), Duration::fromPs(-3)); };
      return h;
    });
    const auto t = thrownBy([&] { runInProcess(g, registry, PartitionMap::linear(2, 2), RunOptions{}); });
    EXPECT_TRUE(t.thrown);
    EXPECT_THAT(t.message, HasSubstr("component a (test.Member) port fab"));
    const char* expected[] = {"member 2 of fabric bus does not exist (2 members)", "send() on a fabric port (use sendTo)",
                              "negative delay -3 ps"};
    EXPECT_THAT(t.message, HasSubstr(expected[mode]));
  }
}

TEST(RegistryTest, RejectsBadTypes) {
  ComponentRegistry registry;
  ComponentType t;
  t.name = "test.A";
  EXPECT_THAT(thrownBy([&] { registry.add(t); }).message, HasSubstr("component type \"test.A\" has no factory"));
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<Scripted>(ctx, Hooks{}); };
  t.ports = {{"p", ""}, {"p", ""}};
  EXPECT_THAT(thrownBy([&] { registry.add(t); }).message, HasSubstr("declares port \"p\" twice"));
  t.ports = {{"p", ""}, {"q", ""}};
  registry.add(t);
  EXPECT_THAT(thrownBy([&] { registry.add(t); }).message, HasSubstr("component type \"test.A\" is registered twice"));
  EXPECT_TRUE(registry.has("test.A"));
  EXPECT_EQ(registry.get("test.A").portNames, (std::vector<std::string>{"p", "q"}));
  EXPECT_THAT(thrownBy([&] { registry.get("test.B", "component x (test.B)"); }).message,
              HasSubstr("component x (test.B): unknown component type \"test.B\" (known: test.A)"));
  ComponentType unnamed;
  EXPECT_THAT(thrownBy([&] { registry.add(unnamed); }).message, HasSubstr("needs a name"));
}

}  // namespace
}  // namespace wafersim
