// The event order (time, priority, source component id, source sequence number) and payloads
// (sim/event.h).
#include "sim/event.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

namespace wafersim {
namespace {

Event makeEvent(int64_t ps, uint32_t priority, ComponentId source, uint64_t seq, ComponentId target = 0) {
  Event e;
  e.time = SimTime::fromPs(ps);
  e.order = Event::makeOrder(priority, source);
  e.seq = seq;
  e.target = target;
  return e;
}

TEST(EventTest, IsSixtyFourBytesAndTriviallyCopyable) {
  EXPECT_EQ(sizeof(Event), 64u);
  EXPECT_TRUE(std::is_trivially_copyable_v<Event>);
  EXPECT_EQ(Payload::kCapacity, 32u);
}

TEST(EventTest, OrderKeyPacksPriorityAndSource) {
  const Event e = makeEvent(0, 7, 123456, 0);
  EXPECT_EQ(e.priority(), 7u);
  EXPECT_EQ(e.source(), 123456u);
  const Event big = makeEvent(0, 0xFFFFFFFFu, 0xFFFFFFFEu, 0);
  EXPECT_EQ(big.priority(), 0xFFFFFFFFu);
  EXPECT_EQ(big.source(), 0xFFFFFFFEu);
}

TEST(EventTest, TimeComesFirst) {
  // An earlier event goes first whatever its priority, source and sequence number.
  const Event early = makeEvent(100, 9, 999, 999);
  const Event late = makeEvent(101, 0, 0, 0);
  EXPECT_TRUE(before(early, late));
  EXPECT_FALSE(before(late, early));
}

TEST(EventTest, ThenPriority) {
  const Event urgent = makeEvent(100, 0, 999, 999);
  const Event lazy = makeEvent(100, 1, 0, 0);
  EXPECT_TRUE(before(urgent, lazy));
  EXPECT_FALSE(before(lazy, urgent));
}

TEST(EventTest, ThenSourceId) {
  const Event fromLow = makeEvent(100, 2, 3, 999);
  const Event fromHigh = makeEvent(100, 2, 4, 0);
  EXPECT_TRUE(before(fromLow, fromHigh));
  EXPECT_FALSE(before(fromHigh, fromLow));
}

TEST(EventTest, ThenSequenceNumber) {
  const Event first = makeEvent(100, 2, 3, 41);
  const Event second = makeEvent(100, 2, 3, 42);
  EXPECT_TRUE(before(first, second));
  EXPECT_FALSE(before(second, first));
}

TEST(EventTest, TargetAndPayloadDoNotTakePartInTheOrder) {
  Event a = makeEvent(100, 2, 3, 4, /*target=*/1);
  Event b = makeEvent(100, 2, 3, 4, /*target=*/9);
  b.port = 3;
  b.payload = Payload::of(uint64_t{77});
  EXPECT_FALSE(before(a, b));
  EXPECT_FALSE(before(b, a));
}

TEST(EventTest, IsAStrictWeakOrderOnAllKeys) {
  // Every combination of small keys: irreflexive, asymmetric, and sorted lexicographically.
  std::vector<Event> all;
  for (int64_t t = 0; t < 3; ++t)
    for (uint32_t p = 0; p < 3; ++p)
      for (ComponentId s = 0; s < 3; ++s)
        for (uint64_t q = 0; q < 3; ++q) all.push_back(makeEvent(t, p, s, q));
  for (const Event& a : all) {
    EXPECT_FALSE(before(a, a));
    for (const Event& b : all) {
      const auto key = [](const Event& e) { return std::tuple(e.time.ps(), e.priority(), e.source(), e.seq); };
      EXPECT_EQ(before(a, b), key(a) < key(b));
    }
  }
}

struct Sample {
  uint64_t id;
  uint32_t hops;
  uint32_t flags;
  double weight;
};

TEST(EventTest, PayloadRoundTrips) {
  const Sample s{0x0123456789ABCDEFull, 7, 0xFFFF0000u, 0.1};
  const Payload p = Payload::of(s);
  const Sample back = p.as<Sample>();
  EXPECT_EQ(back.id, s.id);
  EXPECT_EQ(back.hops, s.hops);
  EXPECT_EQ(back.flags, s.flags);
  EXPECT_EQ(back.weight, s.weight);
  // The bytes past the value are zero, so equal values give equal payload bytes.
  const Payload small = Payload::of(uint32_t{0xAABBCCDDu});
  for (size_t i = 4; i < Payload::kCapacity; ++i) EXPECT_EQ(small.data()[i], 0) << i;
  const Payload empty{};
  for (size_t i = 0; i < Payload::kCapacity; ++i) EXPECT_EQ(empty.data()[i], 0) << i;
  struct Full {
    uint64_t w[4];
  };
  const Full f{{1, 2, 3, 4}};
  EXPECT_EQ(Payload::of(f).as<Full>().w[3], 4u);
}

}  // namespace
}  // namespace wafersim
