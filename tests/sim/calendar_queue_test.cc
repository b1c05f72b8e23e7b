// CalendarQueue must be a drop-in replacement for HeapQueue: every test below runs the same
// operations on a CalendarQueue and on a HeapQueue<2> and demands the very same events back, in
// the before() order, with top(), nextTime() and size() agreeing after every step.
#include "sim/calendar_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "sim/event_queue.h"
#include "sim/random.h"

namespace wafersim {
namespace {

using Reference = HeapQueue<2>;

enum class Dist { Exponential, SameInstant, Bimodal };

std::string distName(Dist d) {
  switch (d) {
    case Dist::Exponential: return "Exponential";
    case Dist::SameInstant: return "SameInstant";
    case Dist::Bimodal: return "Bimodal";
  }
  return "Unknown";
}

// The bench_event_queue distributions: 100 ps + Exp(900 ps); exactly 1 ns; 1 ns or (10%) 1 us.
int64_t increment(Dist d, RandomStream& rng) {
  switch (d) {
    case Dist::Exponential: return 100 + static_cast<int64_t>(rng.exponential(900.0) + 0.5);
    case Dist::SameInstant: return 1'000;
    case Dist::Bimodal: return rng.below(10) == 0 ? 1'000'000 : 1'000;
  }
  return 0;
}

Event makeEvent(int64_t ps, uint64_t order, uint64_t seq) {
  Event e;
  e.time = SimTime::fromPs(ps);
  e.order = order;
  e.seq = seq;
  e.target = static_cast<ComponentId>(seq * 2654435761u);
  e.port = static_cast<PortId>(seq);
  e.payload = Payload::of(seq ^ 0xABCDEFull);
  return e;
}

// Ties on time are common in the tests, so (order, seq) must decide; orders come from few sources.
Event randomEvent(int64_t ps, uint64_t& seq, RandomStream& rng) {
  return makeEvent(ps, Event::makeOrder(static_cast<uint32_t>(rng.below(3)), static_cast<ComponentId>(rng.below(64))),
                   seq++);
}

::testing::AssertionResult sameEvent(const Event& a, const Event& b) {
  if (a.time == b.time && a.order == b.order && a.seq == b.seq && a.target == b.target && a.port == b.port &&
      a.payload.as<uint64_t>() == b.payload.as<uint64_t>())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "calendar (t=" << a.time.ps() << " order=" << a.order << " seq=" << a.seq
                                       << ") vs heap (t=" << b.time.ps() << " order=" << b.order
                                       << " seq=" << b.seq << ")";
}

// Compares the observable state, then pops one event from each and compares it.
::testing::AssertionResult popBoth(CalendarQueue& cq, Reference& ref) {
  if (cq.size() != ref.size())
    return ::testing::AssertionFailure() << "size " << cq.size() << " vs " << ref.size();
  if (cq.empty() != ref.empty()) return ::testing::AssertionFailure() << "empty() differs";
  if (cq.nextTime() != ref.nextTime())
    return ::testing::AssertionFailure() << "nextTime " << cq.nextTime().ps() << " vs " << ref.nextTime().ps();
  if (auto r = sameEvent(cq.top(), ref.top()); !r) return r << " (top)";
  const Event a = cq.pop();
  const Event b = ref.pop();
  if (auto r = sameEvent(a, b); !r) return r << " (pop)";
  return ::testing::AssertionSuccess();
}

void pushBoth(CalendarQueue& cq, Reference& ref, const Event& e) {
  cq.push(e);
  ref.push(e);
}

::testing::AssertionResult drainBoth(CalendarQueue& cq, Reference& ref) {
  while (!ref.empty())
    if (auto r = popBoth(cq, ref); !r) return r << " while draining, " << ref.size() << " left";
  if (!cq.empty()) return ::testing::AssertionFailure() << "calendar not empty after the heap drained";
  if (cq.nextTime() != SimTime::never()) return ::testing::AssertionFailure() << "nextTime of an empty queue";
  return ::testing::AssertionSuccess();
}

TEST(CalendarQueueTest, EmptyQueue) {
  CalendarQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.nextTime(), SimTime::never());
  q.reserve(1'000);
  EXPECT_EQ(q.nextTime(), SimTime::never());
  q.push(makeEvent(42, 1, 1));
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.nextTime(), SimTime::fromPs(42));
  EXPECT_EQ(q.top().seq, 1u);
  EXPECT_EQ(q.pop().seq, 1u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.nextTime(), SimTime::never());
  // Reused after draining, on an earlier instant than the last one popped.
  q.push(makeEvent(7, 1, 2));
  EXPECT_EQ(q.nextTime(), SimTime::fromPs(7));
  EXPECT_EQ(q.pop().seq, 2u);
  EXPECT_EQ(q.nextTime(), SimTime::never());
}

struct HoldCase {
  Dist dist;
  size_t size;
};

void PrintTo(const HoldCase& c, std::ostream* os) { *os << distName(c.dist) << " " << c.size; }

class CalendarQueueHoldTest : public ::testing::TestWithParam<HoldCase> {};

// The hold model of bench_event_queue: pop one, push one at its time + increment.
TEST_P(CalendarQueueHoldTest, MatchesHeap) {
  const auto [dist, size] = GetParam();
  RandomStream rng(11, size, static_cast<uint64_t>(dist));
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  for (size_t i = 0; i < size; ++i) pushBoth(cq, ref, randomEvent(increment(dist, rng), seq, rng));
  const size_t holds = std::max<size_t>(30'000, 6 * size);
  for (size_t i = 0; i < holds; ++i) {
    const Event first = ref.top();
    ASSERT_TRUE(popBoth(cq, ref)) << "hold " << i;
    pushBoth(cq, ref, randomEvent(first.time.ps() + increment(dist, rng), seq, rng));
  }
  ASSERT_TRUE(drainBoth(cq, ref));
}

INSTANTIATE_TEST_SUITE_P(
    AllDistributions, CalendarQueueHoldTest,
    ::testing::Values(HoldCase{Dist::Exponential, 1}, HoldCase{Dist::Exponential, 16},
                      HoldCase{Dist::Exponential, 1'024}, HoldCase{Dist::Exponential, 4'096},
                      HoldCase{Dist::SameInstant, 1}, HoldCase{Dist::SameInstant, 16},
                      HoldCase{Dist::SameInstant, 1'024}, HoldCase{Dist::SameInstant, 4'096},
                      HoldCase{Dist::Bimodal, 1}, HoldCase{Dist::Bimodal, 16}, HoldCase{Dist::Bimodal, 1'024},
                      HoldCase{Dist::Bimodal, 4'096}),
    [](const ::testing::TestParamInfo<HoldCase>& info) {
      return distName(info.param.dist) + "_" + std::to_string(info.param.size);
    });

class CalendarQueueDistTest : public ::testing::TestWithParam<Dist> {};

// Grows to 100k events (the bucket count doubles many times, the width is re-estimated each
// time), with a pop after every fourth push, then drains to empty (it halves again).
TEST_P(CalendarQueueDistTest, GrowTo100kThenDrain) {
  const Dist dist = GetParam();
  RandomStream rng(12, 0, static_cast<uint64_t>(dist));
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  int64_t now = 0;
  size_t maxBuckets = 0;
  while (ref.size() < 100'000) {
    pushBoth(cq, ref, randomEvent(now + increment(dist, rng), seq, rng));
    if (seq % 4 == 0) {
      now = ref.top().time.ps();
      ASSERT_TRUE(popBoth(cq, ref)) << "growing, size " << ref.size();
    }
    maxBuckets = std::max(maxBuckets, cq.bucketCount());
  }
  EXPECT_GE(maxBuckets, 32'768u);
  size_t minBuckets = maxBuckets;
  while (!ref.empty()) {
    ASSERT_TRUE(popBoth(cq, ref)) << "draining, size " << ref.size();
    minBuckets = std::min(minBuckets, cq.bucketCount());
  }
  EXPECT_EQ(minBuckets, CalendarQueue::kMinBuckets);
  EXPECT_TRUE(cq.empty());
  EXPECT_EQ(cq.nextTime(), SimTime::never());
}

// Random pushes and pops in phases that grow, hold and shrink the queue; pushed times are near the
// last popped time, often earlier than it (allowed: the queue is a general priority queue).
TEST_P(CalendarQueueDistTest, InterleavedPushPop) {
  const Dist dist = GetParam();
  RandomStream rng(13, 0, static_cast<uint64_t>(dist));
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  int64_t now = 0;
  const uint64_t pushPercent[] = {90, 50, 10, 70, 50, 30, 95, 5};
  for (uint64_t percent : pushPercent) {
    for (int i = 0; i < 20'000; ++i) {
      if (ref.empty() || rng.below(100) < percent) {
        int64_t t = now + increment(dist, rng);
        if (rng.below(8) == 0) t = now - static_cast<int64_t>(rng.below(5'000));  // into the past
        pushBoth(cq, ref, randomEvent(t, seq, rng));
      } else {
        now = ref.top().time.ps();
        ASSERT_TRUE(popBoth(cq, ref)) << "op " << i << " at push percent " << percent;
      }
    }
  }
  ASSERT_TRUE(drainBoth(cq, ref));
}

INSTANTIATE_TEST_SUITE_P(AllDistributions, CalendarQueueDistTest,
                         ::testing::Values(Dist::Exponential, Dist::SameInstant, Dist::Bimodal),
                         [](const ::testing::TestParamInfo<Dist>& info) { return distName(info.param); });

// Thousands of events on one instant, pushed in random order: (order, seq) alone decides.
TEST(CalendarQueueTest, EqualTimeTies) {
  RandomStream rng(14, 0);
  std::vector<Event> events;
  for (uint64_t i = 0; i < 20'000; ++i) {
    const int64_t t = i % 10 == 0 ? 5'000 : 3'000;  // two instants, 90% on the first
    events.push_back(makeEvent(t, Event::makeOrder(static_cast<uint32_t>(rng.below(4)),
                                                   static_cast<ComponentId>(rng.below(100))),
                               rng.below(1'000'000)));
  }
  for (size_t i = events.size() - 1; i > 0; --i) std::swap(events[i], events[rng.below(i + 1)]);
  CalendarQueue cq;
  Reference ref;
  for (const Event& e : events) pushBoth(cq, ref, e);
  std::vector<Event> expected = events;
  std::sort(expected.begin(), expected.end(), [](const Event& a, const Event& b) { return before(a, b); });
  for (const Event& e : expected) {
    ASSERT_TRUE(sameEvent(cq.top(), e));
    ASSERT_TRUE(popBoth(cq, ref));
  }
  EXPECT_TRUE(cq.empty());
}

// Ties on time and order: seq decides; and the hold model with every event on one instant.
TEST(CalendarQueueTest, SameTimeAndOrderTiesBrokenBySeq) {
  CalendarQueue cq;
  Reference ref;
  for (uint64_t seq : {5u, 3u, 9u, 1u, 7u, 2u, 8u, 4u, 6u, 0u}) pushBoth(cq, ref, makeEvent(100, 7, seq));
  for (uint64_t seq = 0; seq < 10; ++seq) {
    ASSERT_EQ(cq.top().seq, seq);
    ASSERT_TRUE(popBoth(cq, ref));
  }
  // Every pushed event lands on the instant being popped (zero increment).
  RandomStream rng(15, 0);
  uint64_t seq = 100;
  for (int i = 0; i < 3'000; ++i) pushBoth(cq, ref, randomEvent(1'000, seq, rng));
  for (int i = 0; i < 30'000; ++i) {
    ASSERT_TRUE(popBoth(cq, ref));
    pushBoth(cq, ref, randomEvent(1'000, seq, rng));
  }
  ASSERT_TRUE(drainBoth(cq, ref));
}

// Negative times, 0, never() and everything between: the day arithmetic must not overflow, and
// the width estimate must survive gaps of 2^63 ps.
TEST(CalendarQueueTest, ExtremeTimes) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  RandomStream rng(16, 0);
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  const int64_t fixed[] = {kMin, kMin + 1, -1'000'000, -1, 0, 1, 2, 1'000'000, kMax / 2, kMax - 1, kMax};
  for (int round = 0; round < 200; ++round) {
    for (int64_t t : fixed) pushBoth(cq, ref, randomEvent(t, seq, rng));
    for (int i = 0; i < 20; ++i) {
      const int64_t t = static_cast<int64_t>(rng.next());  // anywhere in int64
      pushBoth(cq, ref, randomEvent(t, seq, rng));
    }
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(popBoth(cq, ref)) << "round " << round;
  }
  // never() events are ordinary (last) events.
  pushBoth(cq, ref, makeEvent(SimTime::never().ps(), 0, seq++));
  ASSERT_TRUE(drainBoth(cq, ref));
}

// A width fitted to one phase must not stick: the queue holds 4,096 events at ~10 ps increments,
// then moves to ~1 us increments at the same size, so no resize happens: the days are now far
// too narrow, and the cost check must refit the width. Then back, for the order only.
TEST(CalendarQueueTest, WidthFollowsDistributionDrift) {
  RandomStream rng(17, 0);
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  auto hold = [&](double mean, int count) -> ::testing::AssertionResult {
    for (int i = 0; i < count; ++i) {
      const int64_t t = ref.top().time.ps();
      if (auto r = popBoth(cq, ref); !r) return r << " hold " << i << " at mean " << mean;
      pushBoth(cq, ref, randomEvent(t + 1 + static_cast<int64_t>(rng.exponential(mean)), seq, rng));
    }
    return ::testing::AssertionSuccess();
  };
  for (int i = 0; i < 4'096; ++i) pushBoth(cq, ref, randomEvent(static_cast<int64_t>(rng.exponential(10.0)), seq, rng));
  ASSERT_TRUE(hold(10.0, 40'000));
  const unsigned fine = cq.widthShift();
  const size_t buckets = cq.bucketCount();
  ASSERT_TRUE(hold(1e6, 40'000));
  const unsigned coarse = cq.widthShift();
  EXPECT_EQ(cq.bucketCount(), buckets);
  // 1 us mean increments over 4,096 events: a ~250 ps mean gap, a ~500 ps width (2^9).
  EXPECT_GE(coarse, fine + 6) << "fine " << fine;
  ASSERT_TRUE(hold(10.0, 40'000));  // back: a near-term chain among far events
  ASSERT_TRUE(drainBoth(cq, ref));
}

// A copy is an independent queue with the same future.
TEST(CalendarQueueTest, CopyIsIndependent) {
  RandomStream rng(18, 0);
  CalendarQueue cq;
  Reference ref;
  uint64_t seq = 0;
  for (int i = 0; i < 5'000; ++i) pushBoth(cq, ref, randomEvent(static_cast<int64_t>(rng.below(1'000'000)), seq, rng));
  for (int i = 0; i < 1'000; ++i) ASSERT_TRUE(popBoth(cq, ref));
  CalendarQueue copy = cq;
  Reference refCopy = ref;
  ASSERT_TRUE(drainBoth(cq, ref));
  ASSERT_TRUE(drainBoth(copy, refCopy));
}

}  // namespace
}  // namespace wafersim
