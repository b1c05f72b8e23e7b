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
  Scripted& make(Duration reaction) {
    names_.push_back(std::make_unique<std::string>("b" + std::to_string(names_.size())));
    ComponentContext ctx;
    ctx.id = static_cast<ComponentId>(components_.size());
    ctx.name = *names_.back();
    ctx.type = "test.Boundary";
    ctx.portNames = &noPorts_;
    Hooks h;
    h.construct = [reaction](Scripted& s) { s.declareReactionDelay(reaction); };
    components_.push_back(std::make_unique<Scripted>(ctx, h));
    return *components_.back();
  }

  std::vector<std::string> noPorts_;
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::unique_ptr<Scripted>> components_;
};

TEST_F(LookaheadTest, LinksModeUsesTheSmallestCutLatencyOnly) {
  Scripted& a = make(Duration::fromPs(5000));
  Scripted& b = make(Duration::fromPs(7000));
  a.promiseNoOutputBefore(SimTime::fromPs(1'000'000));
  Lookahead la;
  la.reset(2, LookaheadMode::Links);
  la.addBoundary(0, &a, Duration::fromPs(300));
  la.addBoundary(0, &b, Duration::fromPs(200));
  la.addBoundary(1, &a, Duration::fromPs(900));
  la.seal();
  EXPECT_EQ(la.minCutLatency(0), Duration::fromPs(200));
  EXPECT_EQ(la.minCutLatency(1), Duration::fromPs(900));
  const PeerReport r0 = la.bound(0, SimTime::zero());
  EXPECT_EQ(r0.reaction, Duration::fromPs(200));
  EXPECT_EQ(r0.promise, SimTime::zero());
  EXPECT_EQ(outputBound(r0, SimTime::fromPs(1000)), SimTime::fromPs(1200));
  EXPECT_EQ(la.bound(1, SimTime::zero()).reaction, Duration::fromPs(900));
}

TEST_F(LookaheadTest, ModelModeAddsReactionDelaysAndPromises) {
  Scripted& a = make(Duration::fromPs(5000));
  Scripted& b = make(Duration::fromPs(1000));
  Lookahead la;
  la.reset(1, LookaheadMode::Model);
  la.addBoundary(0, &a, Duration::fromPs(300));
  la.addBoundary(0, &b, Duration::fromPs(2000));
  la.addBoundary(0, &a, Duration::fromPs(100));  // the same component again: the shorter path counts
  la.seal();
  EXPECT_EQ(la.minCutLatency(0), Duration::fromPs(100));
  // C = min(5000 + 100, 1000 + 2000) = 3000.
  PeerReport r = la.bound(0, SimTime::zero());
  EXPECT_EQ(r.reaction, Duration::fromPs(3000));
  // No promises yet (zero): A = min(0 + 100, 0 + 2000) = 100.
  EXPECT_EQ(r.promise, SimTime::fromPs(100));
  EXPECT_EQ(outputBound(r, SimTime::fromPs(50)), SimTime::fromPs(3050));

  // Both busy: A = min(20000 + 100, 9000 + 2000) = 11000, beyond T + C.
  a.promiseNoOutputBefore(SimTime::fromPs(20'000));
  b.promiseNoOutputBefore(SimTime::fromPs(9'000));
  r = la.bound(0, SimTime::zero());
  EXPECT_EQ(r.promise, SimTime::fromPs(11'000));
  EXPECT_EQ(outputBound(r, SimTime::fromPs(50)), SimTime::fromPs(11'000));
  EXPECT_EQ(outputBound(r, SimTime::fromPs(10'000)), SimTime::fromPs(13'000));
}

TEST_F(LookaheadTest, EarlyExitNeverChangesTheOutputBound) {
  // bound() may stop scanning promises once they cannot matter; the resulting output bound must
  // equal the one computed from every promise.
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    components_.clear();
    const int n = 1 + static_cast<int>(rng() % 6);
    std::vector<Duration> lat;
    Lookahead la;
    la.reset(1, LookaheadMode::Model);
    for (int i = 0; i < n; ++i) {
      Scripted& c = make(Duration::fromPs(static_cast<int64_t>(rng() % 3000)));
      lat.push_back(Duration::fromPs(1 + static_cast<int64_t>(rng() % 1000)));
      la.addBoundary(0, &c, lat.back());
    }
    la.seal();
    for (int i = 0; i < n; ++i) components_[i]->promiseNoOutputBefore(SimTime::fromPs(static_cast<int64_t>(rng() % 10000)));
    const SimTime t = SimTime::fromPs(static_cast<int64_t>(rng() % 8000));
    SimTime a = SimTime::never();
    Duration c = Duration::max();
    for (int i = 0; i < n; ++i) {
      a = min(a, components_[i]->promisedOutputTime() + lat[i]);
      c = min(c, components_[i]->reactionDelay() + lat[i]);
    }
    const SimTime expected = max(a, t + c);
    EXPECT_EQ(outputBound(la.bound(0, t), t), expected) << "trial " << trial;
  }
}

TEST(WindowGrantTest, WindowEndsAtTheEarliestOutputBoundOfAnyPartition) {
  std::vector<WindowReport> all(3);
  all[0].nextEvent = SimTime::fromPs(100);
  all[0].peers = {{1, SimTime::never(), SimTime::zero(), Duration::fromPs(50)}};
  all[1].nextEvent = SimTime::fromPs(400);
  all[1].peers = {{0, SimTime::never(), SimTime::zero(), Duration::fromPs(50)},
                  {2, SimTime::fromPs(120), SimTime::zero(), Duration::fromPs(50)}};
  all[2].nextEvent = SimTime::never();
  all[2].peers = {{1, SimTime::never(), SimTime::zero(), Duration::fromPs(1000)}};
  // Earliest: p0 100, p1 400, p2 120 (what p1 sent it). Bounds: p0 -> 150, p1 -> 450, p2 -> 1120.
  WindowGrant g = computeWindowGrant(all, SimTime::never());
  EXPECT_EQ(g.globalNext, SimTime::fromPs(100));
  EXPECT_EQ(g.windowEnd, SimTime::fromPs(150));
  EXPECT_FALSE(g.done);

  // A promise from p0 lifts its bound: the window then ends at p1's.
  all[0].peers[0].promise = SimTime::fromPs(1000);
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
  all[0].peers = {{1, SimTime::fromPs(700), SimTime::zero(), Duration::fromPs(100)}};
  all[1].peers = {{0, SimTime::never(), SimTime::zero(), Duration::fromPs(100)}};
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
