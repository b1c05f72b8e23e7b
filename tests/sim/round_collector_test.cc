// RoundCollector keeps batches of later rounds and hands them back instead of dropping them.
// Regression: over ZeroMQ a fast peer's first run batch could arrive while the last init phase
// was still collecting from a slow peer, and was lost with the collector.
#include <deque>

#include <gtest/gtest.h>

#include "sim/sync_strategy.h"

namespace wafersim {
namespace {

// Delivers a fixed arrival order; no sockets.
class ScriptedTransport final : public Transport {
 public:
  explicit ScriptedTransport(std::deque<EventBatch> arrivals) : queue_(std::move(arrivals)) {}
  PartitionId self() const override { return 0; }
  uint32_t partitionCount() const override { return 3; }
  void send(PartitionId, EventBatch&) override {}
  bool receive(EventBatch& out, Wait) override {
    if (queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
  void requeue(std::vector<EventBatch>&& batches) override {
    for (auto it = batches.rbegin(); it != batches.rend(); ++it) queue_.push_front(std::move(*it));
  }
  void allGather(const WindowReport&, std::vector<WindowReport>&) override {}

 private:
  std::deque<EventBatch> queue_;
};

EventBatch batch(PartitionId from, uint64_t round, size_t events) {
  EventBatch b;
  b.from = from;
  b.round = round;
  b.events.resize(events);
  return b;
}

TEST(RoundCollector, KeepsLaterRoundsAndHandsThemBack) {
  // Peer 1 is fast: its round-8 batch arrives before peer 2's round-7 batch.
  ScriptedTransport t({batch(1, 7, 1), batch(1, 8, 2), batch(2, 7, 3), batch(2, 8, 4)});
  RoundCollector collector;
  std::vector<std::pair<PartitionId, size_t>> delivered;
  collector.collect(t, {1, 2}, 7, [&](const EventBatch& b) { delivered.push_back({b.from, b.events.size()}); });
  EXPECT_EQ(delivered, (std::vector<std::pair<PartitionId, size_t>>{{1, 1}, {2, 3}}));
  collector.release(t);
  EventBatch next;
  ASSERT_TRUE(t.receive(next, Wait::No));
  EXPECT_EQ(next.from, 1u);
  EXPECT_EQ(next.round, 8u);
  EXPECT_EQ(next.events.size(), 2u);
  ASSERT_TRUE(t.receive(next, Wait::No));
  EXPECT_EQ(next.from, 2u);
  EXPECT_EQ(next.round, 8u);
  EXPECT_FALSE(t.receive(next, Wait::No));
}

TEST(RoundCollector, DeliversKeptBatchesInTheirRound) {
  ScriptedTransport t({batch(1, 7, 1), batch(1, 8, 2), batch(2, 7, 3), batch(2, 8, 4)});
  RoundCollector collector;
  size_t events = 0;
  collector.collect(t, {1, 2}, 7, [&](const EventBatch& b) { events += b.events.size(); });
  collector.collect(t, {1, 2}, 8, [&](const EventBatch& b) { events += b.events.size(); });
  EXPECT_EQ(events, 10u);
}

}  // namespace
}  // namespace wafersim
