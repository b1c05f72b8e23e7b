// The future-event set (sim/event_queue.h): HeapQueue<2> and HeapQueue<4> against a sorted
// reference, with many ties on time so that priority, source and sequence decide.
#include "sim/event_queue.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace wafersim {
namespace {

Event makeEvent(int64_t ps, uint32_t priority, ComponentId source, uint64_t seq) {
  Event e;
  e.time = SimTime::fromPs(ps);
  e.order = Event::makeOrder(priority, source);
  e.seq = seq;
  e.target = source ^ 0x55u;
  e.payload = Payload::of(seq * 31 + source);
  return e;
}

bool sameEvent(const Event& a, const Event& b) {
  return a.time == b.time && a.order == b.order && a.seq == b.seq && a.target == b.target &&
         a.payload.as<uint64_t>() == b.payload.as<uint64_t>();
}

// Random events with unique (source, seq) and times drawn from a small range, so ties are common.
std::vector<Event> randomEvents(size_t n, int64_t timeRange, std::mt19937_64& rng) {
  std::vector<Event> events;
  std::vector<uint64_t> nextSeq(8, 0);
  for (size_t i = 0; i < n; ++i) {
    const auto source = static_cast<ComponentId>(rng() % 8);
    const auto priority = static_cast<uint32_t>(rng() % 3);
    events.push_back(makeEvent(static_cast<int64_t>(rng() % timeRange), priority, source, nextSeq[source]++));
  }
  std::shuffle(events.begin(), events.end(), rng);
  return events;
}

template <typename Queue>
class EventQueueTest : public ::testing::Test {};

// EventQueue is whichever queue the kernel uses (event_queue.h); it must pass the same checks.
using Queues = ::testing::Types<HeapQueue<2>, HeapQueue<4>, HeapQueue<3>, HeapQueue<8>, EventQueue>;
TYPED_TEST_SUITE(EventQueueTest, Queues);

TYPED_TEST(EventQueueTest, EmptyQueue) {
  TypeParam q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.nextTime(), SimTime::never());
  q.push(makeEvent(5, 0, 0, 0));
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.nextTime(), SimTime::fromPs(5));
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.nextTime(), SimTime::never());
}

TYPED_TEST(EventQueueTest, PopsInSortedOrder) {
  std::mt19937_64 rng(12345);
  for (int64_t range : {int64_t{1}, int64_t{4}, int64_t{50}, int64_t{1'000'000}}) {
    for (size_t n : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, size_t{3000}}) {
      std::vector<Event> events = randomEvents(n, range, rng);
      TypeParam q;
      q.reserve(n);
      for (const Event& e : events) q.push(e);
      EXPECT_EQ(q.size(), n);
      std::vector<Event> expected = events;
      std::sort(expected.begin(), expected.end(), [](const Event& a, const Event& b) { return before(a, b); });
      for (size_t i = 0; i < n; ++i) {
        ASSERT_FALSE(q.empty());
        ASSERT_EQ(q.nextTime(), expected[i].time);
        ASSERT_TRUE(sameEvent(q.top(), expected[i])) << "range " << range << " n " << n << " at " << i;
        const Event e = q.pop();
        ASSERT_TRUE(sameEvent(e, expected[i])) << "range " << range << " n " << n << " at " << i;
      }
      EXPECT_TRUE(q.empty());
    }
  }
}

TYPED_TEST(EventQueueTest, InterleavedPushAndPopMatchAnOrderedSet) {
  std::mt19937_64 rng(777);
  auto less = [](const Event& a, const Event& b) { return before(a, b); };
  std::multiset<Event, decltype(less)> reference(less);
  TypeParam q;
  std::vector<uint64_t> nextSeq(8, 0);
  int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    if (reference.empty() || rng() % 5 < 3) {
      // Like a simulation: new events at or after the last popped time, often exactly at it.
      const auto source = static_cast<ComponentId>(rng() % 8);
      const int64_t t = now + static_cast<int64_t>(rng() % 3 == 0 ? 0 : rng() % 20);
      const Event e = makeEvent(t, static_cast<uint32_t>(rng() % 2), source, nextSeq[source]++);
      q.push(e);
      reference.insert(e);
    } else {
      const Event expected = *reference.begin();
      reference.erase(reference.begin());
      const Event got = q.pop();
      ASSERT_TRUE(sameEvent(got, expected)) << "step " << step;
      ASSERT_GE(got.time.ps(), now);
      now = got.time.ps();
    }
    ASSERT_EQ(q.size(), reference.size());
  }
}

TYPED_TEST(EventQueueTest, EqualTimeTiesBreakOnPrioritySourceAndSequence) {
  TypeParam q;
  // All at the same instant, pushed in the reverse of the expected order.
  const std::vector<Event> expected = {makeEvent(10, 0, 1, 0), makeEvent(10, 0, 1, 1), makeEvent(10, 0, 2, 0),
                                       makeEvent(10, 0, 9, 5), makeEvent(10, 1, 0, 0), makeEvent(10, 1, 0, 3),
                                       makeEvent(10, 2, 0, 0)};
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) q.push(*it);
  q.push(makeEvent(9, 5, 50, 50));
  EXPECT_EQ(q.pop().time.ps(), 9);
  for (const Event& e : expected) ASSERT_TRUE(sameEvent(q.pop(), e));
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(EventQueueTest, NeverTimesGoLast) {
  TypeParam q;
  Event late = makeEvent(0, 0, 0, 0);
  late.time = SimTime::never();
  q.push(late);
  q.push(makeEvent(1'000'000'000'000, 0, 1, 0));
  EXPECT_EQ(q.pop().time.ps(), 1'000'000'000'000);
  EXPECT_TRUE(q.pop().time.isNever());
}

}  // namespace
}  // namespace wafersim
