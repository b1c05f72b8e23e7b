// The windowed-barrier strategy (see sync_strategy.h).
#include <memory>

#include "sim/lookahead.h"
#include "sim/sync_strategy.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

class WindowSync final : public SyncStrategy {
 public:
  SyncKind kind() const override { return SyncKind::Window; }

  void run(Partition& p, Transport& transport, SimTime end, SyncStats& stats) override {
    const auto& out = p.outPeers();
    WindowReport report;
    report.peers.resize(out.size());
    std::vector<WindowReport> all;
    RoundCollector collector;
    EventBatch batch;
    uint64_t round = 0;
    bool cutAsked = false;  // in this round's reports: a cut at this window start

    auto exchange = [&]() -> WindowGrant {
      for (size_t i = 0; i < out.size(); ++i) {
        batch.from = p.self();
        batch.round = round;
        batch.events.swap(p.outbox(i));
        ++stats.batchesSent;
        stats.eventsSent += batch.events.size();
        if (batch.events.empty()) ++stats.nullMessages;
        transport.send(out[i], batch);
        batch.events.swap(p.outbox(i));  // hands back the (recycled, empty) vector
      }
      report.nextEvent = p.nextEventTime();
      // The run phase's counter: cuts asked for by wall clock or on demand (partition 0 only).
      report.counter = p.checkpointWanted() ? 1 : 0;
      // Whatever peers sent us this round is at or after what we processed.
      const SimTime firstSend = p.earliestLocalSend();
      for (size_t i = 0; i < out.size(); ++i) report.peers[i] = p.boundTo(i, p.processedUpTo(), firstSend);
      p.clearMinSent();
      WallTimer waiting;
      transport.allGather(report, all);
      collector.collect(transport, p.inPeers(), round,
                        [&](const EventBatch& b) { p.deliverRemote(b.from, b.events); });
      stats.waitSeconds += waiting.seconds();
      WindowGrant grant = computeWindowGrant(all, end);
      cutAsked = false;
      for (const auto& r : all) cutAsked = cutAsked || r.counter > 0;
      // The window is global, so every output bound of ours is at or after its end.
      for (size_t i = 0; i < out.size(); ++i) p.announce(i, grant.windowEnd);
      stats.rounds = ++round;
      stats.publish(p.live());
      return grant;
    };

    for (WindowGrant grant = exchange(); !grant.done; grant = exchange()) {
      // Right after the exchange the cut is consistent (checkpoint.h): nothing is in flight.
      if (p.checkpointDue() || cutAsked) p.writeCheckpoint(round);
      const uint64_t before = p.eventsCommitted();
      p.processUntil(min(grant.windowEnd, p.checkpointCap(grant.globalNext)));
      if (stats.windowWork) stats.windowWork->push_back(static_cast<uint32_t>(p.eventsCommitted() - before));
    }
  }
};

}  // namespace

std::unique_ptr<SyncStrategy> makeWindowSync() { return std::make_unique<WindowSync>(); }

}  // namespace wafersim
