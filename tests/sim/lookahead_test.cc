// Lookahead from cut latencies and component promises, and the window grant (sim/lookahead.h),
// plus the names of strategies and modes (sim/sync_strategy.h).
#include "sim/lookahead.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/sync_strategy.h"
#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::Hooks;
using testing::Scripted;
using testing::thrownBy;

// Unconnected components are enough for Lookahead: it only reads reaction delays and promises.
class LookaheadTest : public ::testing::Test {
 protected:
  Scripted& make(Duration reaction, Hooks h = {}) {
    names_.push_back(std::make_unique<std::string>("b" + std::to_string(names_.size())));
    ComponentContext ctx;
    ctx.id = static_cast<ComponentId>(components_.size());
    ctx.name = *names_.back();
    ctx.type = "test.Boundary";
    ctx.portNames = &noPorts_;
    h.construct = [reaction](Scripted& s) { s.declareReactionDelay(reaction); };
    components_.push_back(std::make_unique<Scripted>(ctx, h));
    pending_.push_back(0);
    return *components_.back();
  }
  // The partition's state: earliest pending event `next`, first local send `firstSend`, nothing
  // from other partitions before `remoteFloor`; pending_ says which components have events.
  Lookahead::LocalState state(SimTime next, SimTime firstSend, SimTime remoteFloor = SimTime::zero()) const {
    return {remoteFloor, next, firstSend, pending_};
  }

  std::vector<std::string> noPorts_;
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::unique_ptr<Scripted>> components_;
  std::vector<uint32_t> pending_;
};

SimTime ps(int64_t v) { return SimTime::fromPs(v); }

TEST_F(LookaheadTest, LinksModeUsesTheSmallestCutLatencyOnly) {
  Scripted& a = make(Duration::fromPs(5000));
  Scripted& b = make(Duration::fromPs(7000));
  a.promiseNoOutputBefore(ps(1'000'000));
  Lookahead la;
  la.reset(2, LookaheadMode::Links);
  la.addBoundary(0, &a, 0, Duration::fromPs(300));
  la.addBoundary(0, &b, 0, Duration::fromPs(200));
  la.addBoundary(1, &a, 0, Duration::fromPs(900));
  la.seal();
  EXPECT_EQ(la.minCutLatency(0), Duration::fromPs(200));
  EXPECT_EQ(la.minCutLatency(1), Duration::fromPs(900));
  // Promises and the first local send are ignored: T + the smallest cut latency.
  const PeerReport r0 = la.bound(0, state(ps(1000), ps(50'000)));
  EXPECT_EQ(r0.reaction, Duration::fromPs(200));
  EXPECT_EQ(r0.promise, SimTime::zero());
  EXPECT_EQ(r0.quiet, ps(1200));
  EXPECT_EQ(outputBound(r0, SimTime::never()), ps(1200));
  EXPECT_EQ(outputBound(r0, ps(500)), ps(700));  // an event arriving at 500 can be answered at 700
  EXPECT_EQ(la.bound(1, state(ps(0), ps(0))).reaction, Duration::fromPs(900));
}

TEST_F(LookaheadTest, ModelModeAddsReactionDelaysAndPromises) {
  Scripted& a = make(Duration::fromPs(5000));
  Scripted& b = make(Duration::fromPs(1000));
  Lookahead la;
  la.reset(1, LookaheadMode::Model);
  la.addBoundary(0, &a, 0, Duration::fromPs(300));
  la.addBoundary(0, &b, 0, Duration::fromPs(2000));
  la.addBoundary(0, &a, 0, Duration::fromPs(100));  // the same port again: the shorter path counts
  la.seal();
  EXPECT_EQ(la.minCutLatency(0), Duration::fromPs(100));
  pending_ = {1, 1};
  // C = min(5000 + 100, 1000 + 2000) = 3000. No promises yet (zero): A = min(0 + 100, 0 + 2000) = 100,
  // and each boundary bounds itself by its own reaction: quiet = min(5100, 3000) = 3000.
  PeerReport r = la.bound(0, state(ps(0), ps(0)));
  EXPECT_EQ(r.reaction, Duration::fromPs(3000));
  // The scan stops at b: A below remoteFloor + C (3000) cannot matter, so it is not refined to 100.
  EXPECT_LE(r.promise, ps(3000));
  EXPECT_EQ(r.quiet, ps(3000));
  EXPECT_EQ(outputBound(r, ps(50)), ps(3000));

  // Both busy: A = min(20000 + 100, 9000 + 2000) = 11000, beyond T + C.
  a.promiseNoOutputBefore(ps(20'000));
  b.promiseNoOutputBefore(ps(9'000));
  r = la.bound(0, state(ps(0), ps(0)));
  EXPECT_EQ(r.promise, ps(11'000));
  EXPECT_EQ(r.quiet, ps(11'000));
  EXPECT_EQ(outputBound(r, SimTime::never()), ps(11'000));
  EXPECT_EQ(outputBound(r, ps(50)), ps(11'000));
  // A remote event arriving at 10000 could make b answer at 10000 + 3000, but the pending events
  // already bound the output at 11000.
  EXPECT_EQ(outputBound(r, ps(10'000)), ps(11'000));
}

TEST_F(LookaheadTest, AnIdleBoundaryWaitsForTheFirstLocalSend) {
  // A router on the cut (1 ps reaction, 20 ns link) with nothing pending, in a partition whose
  // earliest event is at 1 ns but whose components cannot send before 500 ns (a die inside a
  // compute op): nothing crosses before 500 ns + 1 ps + 20 ns.
  Scripted& router = make(Duration::fromPs(1));
  Lookahead la;
  la.reset(1, LookaheadMode::Model);
  la.addBoundary(0, &router, 0, Duration::fromPs(20'000));
  la.seal();
  PeerReport r = la.bound(0, state(ps(1000), ps(500'000)));
  EXPECT_EQ(r.quiet, ps(520'001));
  EXPECT_EQ(outputBound(r, SimTime::never()), ps(520'001));
  // ... unless an event from another partition reaches it first.
  EXPECT_EQ(outputBound(r, ps(100'000)), ps(120'001));
  // With an event pending for the router itself, T counts.
  pending_[router.id()] = 1;
  r = la.bound(0, state(ps(1000), ps(500'000)));
  EXPECT_EQ(r.quiet, ps(21'001));
}

TEST_F(LookaheadTest, PortsPromiseOnTheirOwn) {
  // A component with two cut ports: p0 idle, p1 busy until 90 ns (a router's FIFO). Towards the
  // peer behind p1 the busy port's promise counts; towards p0's peer it does not.
  Hooks h;
  h.promiseOn = [](const Scripted&, PortId port) { return port == 1 ? ps(90'000) : SimTime::zero(); };
  Scripted& router = make(Duration::fromPs(1), h);
  pending_[router.id()] = 1;
  Lookahead la;
  la.reset(2, LookaheadMode::Model);
  la.addBoundary(0, &router, 0, Duration::fromPs(20'000));
  la.addBoundary(1, &router, 1, Duration::fromPs(20'000));
  la.seal();
  EXPECT_EQ(la.bound(0, state(ps(1000), ps(1001))).quiet, ps(21'001));
  const PeerReport busy = la.bound(1, state(ps(1000), ps(1001)));
  EXPECT_EQ(busy.quiet, ps(110'000));
  EXPECT_EQ(busy.promise, ps(110'000));
  EXPECT_EQ(outputBound(busy, ps(2000)), ps(110'000));  // whatever arrives waits behind the queue
}

TEST_F(LookaheadTest, EarlyExitNeverChangesTheOutputBound) {
  // bound() may stop scanning once the rest cannot matter; the resulting output bound must equal
  // the one computed from every boundary on its own, for any arrival time M >= remoteFloor:
  //   min( min_b max(A_b, U_b + C_b), max(min_b A_b, M + min_b C_b) ),  U_b = T or S.
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 500; ++trial) {
    components_.clear();
    pending_.clear();
    const int n = 1 + static_cast<int>(rng() % 6);
    std::vector<Duration> lat;
    Lookahead la;
    la.reset(1, LookaheadMode::Model);
    for (int i = 0; i < n; ++i) {
      Scripted& c = make(Duration::fromPs(static_cast<int64_t>(rng() % 3000)));
      lat.push_back(Duration::fromPs(1 + static_cast<int64_t>(rng() % 1000)));
      la.addBoundary(0, &c, 0, lat.back());
      pending_[c.id()] = static_cast<uint32_t>(rng() % 2);
    }
    la.seal();
    for (int i = 0; i < n; ++i) components_[i]->promiseNoOutputBefore(ps(static_cast<int64_t>(rng() % 10000)));
    const SimTime next = ps(static_cast<int64_t>(rng() % 8000));
    const SimTime first = next + Duration::fromPs(static_cast<int64_t>(rng() % 4000));
    const SimTime floor = ps(static_cast<int64_t>(rng() % 8000));
    const SimTime arrival = floor + Duration::fromPs(static_cast<int64_t>(rng() % 4000));
    SimTime quiet = SimTime::never(), a = SimTime::never();
    Duration c = Duration::max();
    for (int i = 0; i < n; ++i) {
      const SimTime promised = components_[i]->promisedOutputTime() + lat[i];
      const Duration reaction = components_[i]->reactionDelay() + lat[i];
      quiet = min(quiet, max(promised, (pending_[i] ? next : first) + reaction));
      a = min(a, promised);
      c = std::min(c, reaction);
    }
    const SimTime expected = min(quiet, max(a, arrival + c));
    EXPECT_EQ(outputBound(la.bound(0, state(next, first, floor)), arrival), expected) << "trial " << trial;
  }
}

TEST(WindowGrantTest, WindowEndsAtTheEarliestOutputBoundOfAnyPartition) {
  std::vector<WindowReport> all(3);
  // Each report's quiet is its own queue's bound (earliest pending + 50 ps); p2's queue is empty,
  // but p1 sent it an event for 120 this round, which p2 may answer 1000 ps later.
  all[0].nextEvent = SimTime::fromPs(100);
  all[0].peers = {{1, SimTime::never(), SimTime::zero(), Duration::fromPs(50), SimTime::fromPs(150)}};
  all[1].nextEvent = SimTime::fromPs(400);
  all[1].peers = {{0, SimTime::never(), SimTime::zero(), Duration::fromPs(50), SimTime::fromPs(450)},
                  {2, SimTime::fromPs(120), SimTime::zero(), Duration::fromPs(50), SimTime::fromPs(450)}};
  all[2].nextEvent = SimTime::never();
  all[2].peers = {{1, SimTime::never(), SimTime::zero(), Duration::fromPs(1000), SimTime::never()}};
  // Bounds: p0 -> 150, p1 -> 450, p2 -> 1120.
  WindowGrant g = computeWindowGrant(all, SimTime::never());
  EXPECT_EQ(g.globalNext, SimTime::fromPs(100));
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(150));
  EXPECT_FALSE(g.done);

  // A promise from p0 lifts its bound: the window then ends at p1's.
  all[0].peers[0].promise = all[0].peers[0].quiet = SimTime::fromPs(1000);
  g = computeWindowGrant(all, SimTime::never());
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(450));

  // The end of the run caps the window, and the run is done once nothing is left before it.
  g = computeWindowGrant(all, SimTime::fromPs(300));
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(300));
  EXPECT_FALSE(g.done);
  g = computeWindowGrant(all, SimTime::fromPs(100));
  EXPECT_TRUE(g.done);
}

TEST(WindowGrantTest, EventsInFlightKeepTheRunGoing) {
  // Every queue is empty but p0 sent something to p1 this round: not done.
  std::vector<WindowReport> all(2);
  all[0].peers = {{1, SimTime::fromPs(700), SimTime::zero(), Duration::fromPs(100), SimTime::never()}};
  all[1].peers = {{0, SimTime::never(), SimTime::zero(), Duration::fromPs(100), SimTime::never()}};
  WindowGrant g = computeWindowGrant(all, SimTime::never());
  EXPECT_FALSE(g.done);
  EXPECT_EQ(g.globalNext, SimTime::fromPs(700));
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(800));
  all[0].peers[0].minSent = SimTime::never();
  g = computeWindowGrant(all, SimTime::never());
  EXPECT_TRUE(g.done);
  EXPECT_TRUE(g.globalNext.isNever());
}

TEST(WindowGrantTest, SinglePartitionRunsToTheEnd) {
  std::vector<WindowReport> all(1);
  all[0].nextEvent = SimTime::fromPs(5);
  const WindowGrant g = computeWindowGrant(all, SimTime::fromPs(1000));
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(1000));
  EXPECT_FALSE(g.done);
}

TEST(NamesTest, SyncKindsAndLookaheadModes) {
  EXPECT_EQ(parseSyncKind("window"), SyncKind::Window);
  EXPECT_EQ(parseSyncKind("null"), SyncKind::NullMessage);
  EXPECT_EQ(parseSyncKind("null-message"), SyncKind::NullMessage);
  EXPECT_STREQ(toString(SyncKind::Window), "window");
  EXPECT_STREQ(toString(SyncKind::NullMessage), "null");
  EXPECT_THAT(thrownBy([] { parseSyncKind("yawns"); }).message,
              HasSubstr("unknown synchronization strategy \"yawns\" (known: window, null)"));
  EXPECT_EQ(parseLookaheadMode("links"), LookaheadMode::Links);
  EXPECT_EQ(parseLookaheadMode("model"), LookaheadMode::Model);
  EXPECT_STREQ(toString(LookaheadMode::Links), "links");
  EXPECT_STREQ(toString(LookaheadMode::Model), "model");
  EXPECT_THAT(thrownBy([] { parseLookaheadMode("magic"); }).message,
              HasSubstr("unknown lookahead mode \"magic\" (known: links, model)"));
  EXPECT_EQ(makeSyncStrategy(SyncKind::Window)->kind(), SyncKind::Window);
  EXPECT_EQ(makeSyncStrategy(SyncKind::NullMessage)->kind(), SyncKind::NullMessage);
}

}  // namespace
}  // namespace wafersim
