// The in-process transport (sim/impl/inproc_transport.h) against the Transport contract
// (sim/transport.h): FIFO per peer pair, allGather as a collective, quiescence for Wait::Idle,
// abort.
#include "sim/impl/inproc_transport.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;

EventBatch batchOf(PartitionId from, uint64_t round, std::vector<int64_t> times, SimTime bound = SimTime::zero()) {
  EventBatch b;
  b.from = from;
  b.round = round;
  b.bound = bound;
  for (int64_t t : times) {
    Event e;
    e.time = SimTime::fromPs(t);
    b.events.push_back(e);
  }
  return b;
}

TEST(InProcTransportTest, BatchesArriveInOrderAndSendEmptiesTheBatch) {
  InProcHub hub(2);
  auto a = hub.endpoint(0);
  auto b = hub.endpoint(1);
  EXPECT_EQ(a->self(), 0u);
  EXPECT_EQ(b->partitionCount(), 2u);
  for (uint64_t round = 1; round <= 3; ++round) {
    EventBatch batch = batchOf(0, round, {static_cast<int64_t>(round * 100), static_cast<int64_t>(round * 100 + 1)},
                               SimTime::fromPs(static_cast<int64_t>(round)));
    a->send(1, batch);
    EXPECT_TRUE(batch.events.empty());
  }
  EventBatch got;
  for (uint64_t round = 1; round <= 3; ++round) {
    ASSERT_TRUE(b->receive(got, Wait::No));
    EXPECT_EQ(got.from, 0u);
    EXPECT_EQ(got.round, round);
    EXPECT_EQ(got.bound, SimTime::fromPs(static_cast<int64_t>(round)));
    ASSERT_EQ(got.events.size(), 2u);
    EXPECT_EQ(got.events[0].time.ps(), static_cast<int64_t>(round * 100));
    b->recycle(std::move(got.events));
    got.events = {};
  }
  EXPECT_FALSE(b->receive(got, Wait::No));
  EXPECT_FALSE(a->receive(got, Wait::No));  // nothing went the other way
}

TEST(InProcTransportTest, AllGatherIsACollective) {
  const uint32_t n = 3;
  const int rounds = 50;
  InProcHub hub(n);
  std::vector<std::unique_ptr<Transport>> endpoints;
  for (PartitionId p = 0; p < n; ++p) endpoints.push_back(hub.endpoint(p));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (PartitionId p = 0; p < n; ++p)
    threads.emplace_back([&, p] {
      std::vector<WindowReport> all;
      for (int r = 0; r < rounds; ++r) {
        WindowReport mine;
        mine.counter = static_cast<uint64_t>(r) * 10 + p;
        mine.nextEvent = SimTime::fromPs(r);
        // A batch sent before allGather is visible to the peer once its allGather returns.
        EventBatch batch = batchOf(p, static_cast<uint64_t>(r), {r});
        endpoints[p]->send((p + 1) % n, batch);
        endpoints[p]->allGather(mine, all);
        if (all.size() != n) ++mismatches;
        for (PartitionId q = 0; q < n && q < all.size(); ++q)
          if (all[q].counter != static_cast<uint64_t>(r) * 10 + q) ++mismatches;
        EventBatch got;
        if (!endpoints[p]->receive(got, Wait::No) || got.round != static_cast<uint64_t>(r) ||
            got.from != (p + n - 1) % n)
          ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(InProcTransportTest, IdleReceiversStopOnQuiescence) {
  InProcHub hub(3);
  std::vector<std::unique_ptr<Transport>> endpoints;
  for (PartitionId p = 0; p < 3; ++p) endpoints.push_back(hub.endpoint(p));
  std::atomic<int> received{0}, nulls{0};
  std::vector<std::thread> threads;
  for (PartitionId p = 0; p < 3; ++p)
    threads.emplace_back([&, p] {
      // Partition 0 passes a token along 0 -> 1 -> 2 -> 0 ... ten times, then everyone is idle.
      if (p == 0) {
        EventBatch b = batchOf(0, 0, {1});
        endpoints[0]->send(1, b);
      }
      EventBatch got;
      while (endpoints[p]->receive(got, Wait::Idle)) {
        ++(got.events.empty() ? nulls : received);
        if (!got.events.empty() && got.events[0].time.ps() < 10) {
          EventBatch next = batchOf(p, 0, {got.events[0].time.ps() + 1});
          endpoints[p]->send((p + 1) % 3, next);
        }
        // An empty batch (a null message) never keeps the run alive.
        EventBatch empty = batchOf(p, 0, {});
        if (got.events.empty()) continue;
        endpoints[p]->send((p + 2) % 3, empty);
      }
    });
  for (auto& t : threads) t.join();
  // Every batch with events is received before the run is quiescent; null messages sent just
  // before the end may stay in a mailbox.
  EXPECT_EQ(received.load(), 10);
  EXPECT_LE(nulls.load(), 10);
}

TEST(InProcTransportTest, AbortWakesBlockedCallsWithDisconnected) {
  InProcHub hub(2);
  auto a = hub.endpoint(0);
  auto b = hub.endpoint(1);
  std::atomic<bool> threw{false};
  std::string message;
  std::thread waiter([&] {
    try {
      EventBatch got;
      b->receive(got, Wait::Yes);
    } catch (const Error& e) {
      threw = e.kind() == ErrorKind::Disconnected;
      message = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  hub.abort("partition 0 failed: boom");
  waiter.join();
  EXPECT_TRUE(threw.load());
  EXPECT_THAT(message, HasSubstr("run aborted: partition 0 failed: boom"));
  // Every later call fails the same way.
  EventBatch batch;
  EXPECT_THROW(a->send(1, batch), Error);
  std::vector<WindowReport> all;
  EXPECT_THROW(a->allGather(WindowReport{}, all), Error);
}

TEST(InProcTransportTest, EndpointsAreChecked) {
  EXPECT_THROW(InProcHub(0), Error);
  InProcHub hub(2);
  EXPECT_THROW(hub.endpoint(2), Error);
}

}  // namespace
}  // namespace wafersim
