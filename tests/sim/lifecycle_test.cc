// The component lifecycle (sim/component.h, sim/lifecycle.h): construct -> connect -> init(k) ->
// setup -> run -> finish, enforced by Partition; init phases carry messages across partitions; sends
// outside their phases are refused.
#include "sim/lifecycle.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/impl/inproc_transport.h"
#include "sim/simulation.h"
#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::Hooks;
using testing::Scripted;
using testing::thrownBy;
using testing::value;

// A log of lifecycle calls as strings, shared by components on several threads.
class CallLog {
 public:
  void add(const std::string& component, const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_[component].push_back(what);
  }
  std::vector<std::string> of(const std::string& component) {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_[component];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> calls_;
};

class PartitionPhaseTest : public ::testing::Test {
 protected:
  PartitionPhaseTest() {
    graph_.addComponent("solo", "test.Solo");
    testing::registerScripted(registry_, "test.Solo", {}, [this](const std::string&) {
      Hooks h;
      h.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(10), value(1)); };
      h.handle = [this](Scripted&, const Event& e) { handled_.push_back(e.time.ps()); };
      return h;
    });
  }

  SystemGraph graph_;
  ComponentRegistry registry_;
  std::vector<int64_t> handled_;
};

TEST_F(PartitionPhaseTest, PhasesRunInOrderAndOutOfOrderCallsThrow) {
  InProcHub hub(1);
  auto transport = hub.endpoint(0);
  Partition p(graph_, registry_, PartitionMap::single(1), 0, PartitionOptions{});
  EXPECT_EQ(p.phase(), Partition::Phase::Connected);

  // Nothing may run, set up or finish before init.
  auto early = thrownBy([&] { p.processUntil(SimTime::never()); });
  EXPECT_TRUE(early.thrown);
  EXPECT_EQ(early.kind, ErrorKind::Internal);
  EXPECT_THAT(early.message, HasSubstr("run while connected"));
  auto setupEarly = thrownBy([&] { p.setup(); });
  EXPECT_TRUE(setupEarly.thrown);
  EXPECT_THAT(setupEarly.message, HasSubstr("setup called while connected (expected initialized)"));
  EXPECT_TRUE(thrownBy([&] { p.finish(); }).thrown);
  EXPECT_EQ(p.phase(), Partition::Phase::Connected);

  EXPECT_EQ(runInitPhases(p, *transport), 1u);  // nobody sent anything: one phase
  EXPECT_EQ(p.phase(), Partition::Phase::Initialized);
  auto initAgain = thrownBy([&] { p.initPhase(0); });
  EXPECT_TRUE(initAgain.thrown);
  EXPECT_THAT(initAgain.message, HasSubstr("init called while initialized (expected connected)"));
  EXPECT_TRUE(thrownBy([&] { p.endInit(); }).thrown);
  EXPECT_THAT(thrownBy([&] { p.processUntil(SimTime::never()); }).message, HasSubstr("run while initialized"));
  EXPECT_TRUE(thrownBy([&] { p.finish(); }).thrown);

  p.setup();
  EXPECT_EQ(p.phase(), Partition::Phase::Running);
  EXPECT_THAT(thrownBy([&] { p.setup(); }).message, HasSubstr("setup called while running"));
  EXPECT_EQ(p.nextEventTime(), SimTime::fromPs(10));
  p.processUntil(SimTime::fromPs(10));  // commits events strictly before the bound
  EXPECT_TRUE(handled_.empty());
  EXPECT_EQ(p.processedUpTo(), SimTime::fromPs(10));
  p.processUntil(SimTime::fromPs(11));
  EXPECT_THAT(handled_, ::testing::ElementsAre(10));
  EXPECT_EQ(p.eventsCommitted(), 1u);
  EXPECT_EQ(p.lastEventTime(), SimTime::fromPs(10));
  EXPECT_EQ(p.nextEventTime(), SimTime::never());

  p.finish();
  EXPECT_EQ(p.phase(), Partition::Phase::Finished);
  EXPECT_THAT(thrownBy([&] { p.processUntil(SimTime::never()); }).message, HasSubstr("run while finished"));
  EXPECT_THAT(thrownBy([&] { p.finish(); }).message, HasSubstr("finish called while finished"));
}

TEST_F(PartitionPhaseTest, RunLifecycleDrivesEveryStep) {
  InProcHub hub(1);
  auto transport = hub.endpoint(0);
  Partition p(graph_, registry_, PartitionMap::single(1), 0, PartitionOptions{});
  auto strategy = makeSyncStrategy(SyncKind::Window);
  SyncStats stats;
  runLifecycle(p, *transport, *strategy, SimTime::never(), stats);
  EXPECT_EQ(p.phase(), Partition::Phase::Finished);
  EXPECT_THAT(handled_, ::testing::ElementsAre(10));
}

// earliestLocalSend (sim/lookahead.h's S): the minimum, over components with pending events, of
// max(promise, earliest pending event + reaction). "die" computes until 500 ns (a self-event at
// 10 ns, promised silent until 500 ns); "router" has nothing pending; "host" gets an event on a link
// at 300 ns once "die" has sent it at 299 ns. Every way an event enters the queue must count:
// self-events, link events, and nothing left once they are handled.
TEST(EarliestLocalSendTest, CountsOnlyComponentsWithPendingEvents) {
  SystemGraph g;
  const ComponentId die = g.addComponent("die", "test.Part");
  const ComponentId router = g.addComponent("router", "test.Part");
  const ComponentId host = g.addComponent("host", "test.Part");
  g.connect(die, "out", router, "in", Duration::fromPs(1000));
  g.connect(router, "out", host, "in", Duration::fromPs(1000));
  ComponentRegistry registry;
  testing::registerScripted(registry, "test.Part", {"out", "in"}, [](const std::string& name) {
    Hooks h;
    h.construct = [](Scripted& s) { s.declareReactionDelay(Duration::fromPs(5)); };
    if (name == "die") {
      h.setup = [](Scripted& s) {
        s.scheduleSelf(Duration::fromPs(10'000), value(1));
        s.promiseNoOutputBefore(SimTime::fromPs(500'000));
      };
      h.handle = [](Scripted& s, const Event&) {
        if (s.now() == SimTime::fromPs(10'000)) s.scheduleSelf(Duration::fromPs(490'000), value(2));
        else s.send(s.port("out"), value(3));
      };
    }
    return h;
  });
  InProcHub hub(1);
  auto transport = hub.endpoint(0);
  Partition p(g, registry, PartitionMap::single(3), 0, PartitionOptions{});
  runInitPhases(p, *transport);
  p.setup();
  // Only the die has an event (at 10 ns), and it promised 500 ns.
  EXPECT_EQ(p.earliestLocalSend(), SimTime::fromPs(500'000));
  p.processUntil(SimTime::fromPs(20'000));  // the die's next self-event is at 500 ns
  EXPECT_EQ(p.nextEventTime(), SimTime::fromPs(500'000));
  EXPECT_EQ(p.earliestLocalSend(), SimTime::fromPs(500'005));  // now its event + its reaction
  p.processUntil(SimTime::fromPs(500'001));  // the die sent to the router (501 ns)
  EXPECT_EQ(p.nextEventTime(), SimTime::fromPs(501'000));
  EXPECT_EQ(p.earliestLocalSend(), SimTime::fromPs(501'005));  // the router: no promise, 5 ps reaction
  p.processUntil(SimTime::never());
  EXPECT_TRUE(p.earliestLocalSend().isNever());
  (void)host;
}

// A line c0 - c1 - ... - c{n-1} plus a fabric joining all of them. Init phase 0: each sends 100 + id
// on its links; phase 1: each sends the sum it received in phase 0; phase 2: each sends 1000 + id
// on the fabric (to every other member). The log shows what was received between which init calls.
void buildInitGraph(SystemGraph& g, size_t n) {
  std::vector<ComponentId> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(g.addComponent("c" + std::to_string(i), "test.Chatty"));
  for (size_t i = 0; i + 1 < n; ++i) g.connect(ids[i], "right", ids[i + 1], "left", Duration::fromPs(1000));
  g.addFabric("all", "fab", ids, Duration::fromPs(500));
}

void registerChatty(ComponentRegistry& registry, CallLog& log) {
  testing::registerScripted(registry, "test.Chatty", {"left", "right", "fab"}, [&log](const std::string& name) {
    auto sum = std::make_shared<uint64_t>(0);
    Hooks h;
    h.construct = [&log, name](Scripted&) { log.add(name, "construct"); };
    h.init = [&log, name, sum](Scripted& s, unsigned phase) {
      log.add(name, "init " + std::to_string(phase));
      const uint64_t id = s.id();
      if (phase == 0) {
        if (id > 0) s.sendInit(s.port("left"), value(100 + id));
        if (name != "c3") s.sendInit(s.port("right"), value(100 + id));
      }
      if (phase == 1) {
        if (id > 0) s.sendInit(s.port("left"), value(*sum));
        if (name != "c3") s.sendInit(s.port("right"), value(*sum));
      }
      if (phase == 2) s.sendInit(s.port("fab"), value(1000 + id));
    };
    h.handleInit = [&log, name, sum](Scripted&, const Event& e) {
      const uint64_t v = e.payload.as<uint64_t>();
      if (v >= 100 && v < 1000) *sum += v;
      log.add(name, "recv " + std::to_string(v) + " from " + std::to_string(e.source()));
    };
    h.setup = [&log, name](Scripted&) { log.add(name, "setup"); };
    h.finish = [&log, name](Scripted&) { log.add(name, "finish"); };
    return h;
  });
}

TEST(InitPhaseTest, MessagesCrossPartitionsAndArriveBeforeTheNextPhase) {
  SystemGraph g;
  buildInitGraph(g, 4);
  for (uint32_t parts = 1; parts <= 4; ++parts) {
    for (bool rr : {false, true}) {
      for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
        SCOPED_TRACE(std::to_string(parts) + " partitions, " + (rr ? "round-robin" : "linear") + ", " + toString(sync));
        CallLog log;
        ComponentRegistry registry;
        registerChatty(registry, log);
        RunOptions options;
        options.sync = sync;
        options.checker = true;
        runInProcess(g, registry, rr ? PartitionMap::roundRobin(4, parts) : PartitionMap::linear(4, parts), options);
        // Phase 0 values: c_i sends 100 + i. Phase 1: c1 got 100 + 102 = 202 and sends it, c2 got 101 + 103.
        // Messages are delivered in event order (by source id) and before the next init call.
        EXPECT_THAT(log.of("c0"), ::testing::ElementsAre("construct", "init 0", "recv 101 from 1", "init 1",
                                                         "recv 202 from 1", "init 2", "recv 1001 from 1",
                                                         "recv 1002 from 2", "recv 1003 from 3", "init 3", "setup",
                                                         "finish"));
        EXPECT_THAT(log.of("c1"), ::testing::ElementsAre("construct", "init 0", "recv 100 from 0", "recv 102 from 2",
                                                         "init 1", "recv 101 from 0", "recv 204 from 2", "init 2",
                                                         "recv 1000 from 0", "recv 1002 from 2", "recv 1003 from 3",
                                                         "init 3", "setup", "finish"));
        EXPECT_THAT(log.of("c3"), ::testing::ElementsAre("construct", "init 0", "recv 102 from 2", "init 1",
                                                         "recv 204 from 2", "init 2", "recv 1000 from 0",
                                                         "recv 1001 from 1", "recv 1002 from 2", "init 3", "setup",
                                                         "finish"));
      }
    }
  }
}

TEST(InitPhaseTest, RunInitPhasesCountsPhasesUntilNobodySends) {
  SystemGraph g;
  buildInitGraph(g, 4);
  CallLog log;
  ComponentRegistry registry;
  registerChatty(registry, log);
  InProcHub hub(1);
  auto transport = hub.endpoint(0);
  Partition p(g, registry, PartitionMap::single(4), 0, PartitionOptions{});
  // Phases 0, 1 and 2 send; phase 3 sends nothing and ends init.
  EXPECT_EQ(runInitPhases(p, *transport), 4u);
  EXPECT_EQ(p.phase(), Partition::Phase::Initialized);
}

// Runs a two-component system (a and b on a link, 1 ns) whose component a has the given hooks,
// on `partitions` partitions, and returns what the run threw.
testing::Thrown runWith(Hooks hooksOfA, uint32_t partitions = 1) {
  SystemGraph g;
  const ComponentId a = g.addComponent("a", "test.Node");
  const ComponentId b = g.addComponent("b", "test.Node");
  g.connect(a, "out", b, "in", Duration::fromPs(1000));
  ComponentRegistry registry;
  testing::registerScripted(registry, "test.Node", {"out", "in"},
                            [hooksOfA](const std::string& name) { return name == "a" ? hooksOfA : Hooks{}; });
  RunOptions options;
  options.checker = true;
  return thrownBy([&] { runInProcess(g, registry, PartitionMap::linear(2, partitions), options); });
}

TEST(LifecycleRefusalTest, SendDuringConstructionIsRefused) {
  for (uint32_t parts : {1u, 2u}) {
    Hooks h;
    h.construct = [](Scripted& s) { s.send(s.port("out"), value(1)); };
    const auto t = runWith(h, parts);
    EXPECT_TRUE(t.thrown);
    EXPECT_THAT(t.message, HasSubstr("component a (test.Node)"));
    EXPECT_THAT(t.message, HasSubstr("send outside setup() and the run"));
  }
}

TEST(LifecycleRefusalTest, ScheduleSelfDuringConstructionIsRefused) {
  Hooks h;
  h.construct = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(1), value(1)); };
  const auto t = runWith(h);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a"));
  EXPECT_THAT(t.message, HasSubstr("scheduleSelf outside setup() and the run"));
}

TEST(LifecycleRefusalTest, TimeIsUnknownDuringConstruction) {
  Hooks h;
  h.construct = [](Scripted& s) { (void)s.now(); };
  const auto t = runWith(h);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a asked for the time before it was connected"));
}

TEST(LifecycleRefusalTest, TimedSendDuringInitIsRefused) {
  Hooks h;
  h.init = [](Scripted& s, unsigned) { s.send(s.port("out"), value(1)); };
  const auto t = runWith(h, 2);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port #0: send outside setup() and the run"));
}

TEST(LifecycleRefusalTest, SendDuringFinishIsRefused) {
  for (uint32_t parts : {1u, 2u}) {
    Hooks h;
    h.finish = [](Scripted& s) { s.send(s.port("out"), value(1)); };
    const auto t = runWith(h, parts);
    EXPECT_TRUE(t.thrown);
    EXPECT_EQ(t.kind, ErrorKind::Internal);
    EXPECT_THAT(t.message, HasSubstr("component a (test.Node)"));
    EXPECT_THAT(t.message, HasSubstr("send outside setup() and the run"));
  }
}

TEST(LifecycleRefusalTest, ScheduleSelfDuringFinishIsRefused) {
  Hooks h;
  h.finish = [](Scripted& s) { s.scheduleSelf(Duration::zero(), value(1)); };
  const auto t = runWith(h);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("scheduleSelf outside setup() and the run"));
}

TEST(LifecycleRefusalTest, InitMessagesOutsideInitAreRefused) {
  Hooks inSetup;
  inSetup.setup = [](Scripted& s) { s.sendInit(s.port("out"), value(1)); };
  auto t = runWith(inSetup);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a (test.Node) port #0: sendInit outside init()"));

  Hooks inRun;
  inRun.setup = [](Scripted& s) { s.scheduleSelf(Duration::fromPs(5), value(1)); };
  inRun.handle = [](Scripted& s, const Event&) { s.sendInit(s.port("out"), value(1)); };
  t = runWith(inRun, 2);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("sendInit outside init()"));
}

TEST(LifecycleRefusalTest, ReactionDelayIsDeclaredDuringConstructionOnly) {
  Hooks late;
  late.setup = [](Scripted& s) { s.declareReactionDelay(Duration::fromPs(5)); };
  auto t = runWith(late);
  EXPECT_TRUE(t.thrown);
  EXPECT_THAT(t.message, HasSubstr("component a: the reaction delay is declared during construction"));

  Hooks negative;
  negative.construct = [](Scripted& s) { s.declareReactionDelay(Duration::fromPs(-5)); };
  t = runWith(negative);
  EXPECT_TRUE(t.thrown);
  EXPECT_EQ(t.kind, ErrorKind::InvalidConfig);
  EXPECT_THAT(t.message, HasSubstr("component a: negative reaction delay -5 ps"));

  Hooks fine;
  fine.construct = [](Scripted& s) { s.declareReactionDelay(Duration::fromPs(5)); };
  EXPECT_FALSE(runWith(fine, 2).thrown);
}

}  // namespace
}  // namespace wafersim
