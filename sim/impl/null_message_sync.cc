// The Chandy-Misra-Bryant null-message strategy (see sync_strategy.h).
#include <memory>

#include "sim/error.h"
#include "sim/lookahead.h"
#include "sim/sync_strategy.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

class NullMessageSync final : public SyncStrategy {
 public:
  SyncKind kind() const override { return SyncKind::NullMessage; }

  void run(Partition& p, Transport& transport, SimTime end, SyncStats& stats) override {
    const auto& in = p.inPeers();
    const auto& out = p.outPeers();
    std::vector<SimTime> channel(in.size(), SimTime::zero());  // per in-peer: nothing earlier will come
    std::vector<SimTime> announced(out.size(), SimTime::zero());
    std::vector<int32_t> inIndex(transport.partitionCount(), -1);
    for (size_t i = 0; i < in.size(); ++i) inIndex[in[i]] = static_cast<int32_t>(i);
    EventBatch batch;

    for (;;) {
      ++stats.rounds;
      SimTime safe = SimTime::never();
      for (SimTime c : channel) safe = min(safe, c);
      p.processUntil(min(safe, end));
      const SimTime earliest = min(p.nextEventTime(), safe);
      const bool finished = earliest >= end;  // nothing before `end` can happen here any more
      const SimTime firstSend = finished || out.empty() ? SimTime::never() : p.earliestLocalSend();
      for (size_t i = 0; i < out.size(); ++i) {
        const SimTime bound = finished ? SimTime::never() : outputBound(p.boundTo(i, safe, firstSend), safe);
        if (p.outbox(i).empty() && bound <= announced[i]) continue;
        batch.from = p.self();
        batch.round = stats.rounds;
        batch.bound = bound;
        batch.events.swap(p.outbox(i));
        ++stats.batchesSent;
        stats.eventsSent += batch.events.size();
        if (batch.events.empty()) ++stats.nullMessages;
        transport.send(out[i], batch);
        batch.events.swap(p.outbox(i));
        announced[i] = max(announced[i], bound);
        p.announce(i, announced[i]);
      }
      p.clearMinSent();
      if (finished) {
        // Without an end time the others stop on quiescence (every partition idle, nothing in
        // flight), which counts this partition only while it waits as an idle one. So wait with
        // them: with end = never only a partition without peers gets here, and nothing arrives.
        if (end.isNever())
          while (transport.receive(batch, Wait::Idle)) {
            transport.recycle(std::move(batch.events));
            batch.events = {};
          }
        break;
      }

      WallTimer waiting;
      const bool idle = p.nextEventTime().isNever();
      if (!transport.receive(batch, idle ? Wait::Idle : Wait::Yes)) {
        stats.waitSeconds += waiting.seconds();
        break;  // quiescent: every partition idle and nothing in flight
      }
      do {
        const int32_t from = batch.from < inIndex.size() ? inIndex[batch.from] : -1;
        WAFERSIM_ASSERT(from >= 0, "partition ", p.self(), " got a batch from partition ", batch.from,
                        ", which is not an in-peer");
        p.deliverRemote(batch.from, batch.events);
        channel[static_cast<size_t>(from)] = max(channel[static_cast<size_t>(from)], batch.bound);
        transport.recycle(std::move(batch.events));
        batch.events = {};
      } while (transport.receive(batch, Wait::No));
      stats.waitSeconds += waiting.seconds();
      stats.publish(p.live());
    }
  }
};

}  // namespace

std::unique_ptr<SyncStrategy> makeNullMessageSync() { return std::make_unique<NullMessageSync>(); }

}  // namespace wafersim
