#include "sim/lifecycle.h"

#include "sim/error.h"

namespace wafersim {

unsigned runInitPhases(Partition& p, Transport& transport) {
  // Init rounds use round numbers of their own, far from the window strategy's.
  constexpr uint64_t kInitRoundBase = uint64_t{1} << 62;
  RoundCollector collector;
  WindowReport report;
  std::vector<WindowReport> all;
  EventBatch batch;
  for (unsigned phase = 0;; ++phase) {
    WAFERSIM_REQUIRE(phase < 1000, "partition ", p.self(), ": init did not settle after 1000 phases");
    report.counter = p.initPhase(phase);
    for (size_t i = 0; i < p.outPeers().size(); ++i) {
      batch.from = p.self();
      batch.round = kInitRoundBase + phase;
      batch.events.swap(p.outbox(i));
      transport.send(p.outPeers()[i], batch);
      batch.events.swap(p.outbox(i));
    }
    transport.allGather(report, all);
    collector.collect(transport, p.inPeers(), kInitRoundBase + phase,
                      [&](const EventBatch& b) { p.deliverInit(b.events); });
    uint64_t sent = 0;
    for (const auto& r : all) sent += r.counter;
    if (sent == 0) {
      collector.release(transport);
      p.endInit();
      return phase + 1;
    }
  }
}

void runLifecycle(Partition& p, Transport& transport, SyncStrategy& strategy, SimTime end, SyncStats& stats,
                  const CheckpointImage* resume) {
  runInitPhases(p, transport);
  if (resume) p.restore(*resume);
  else p.setup();
  strategy.run(p, transport, end, stats);
  stats.publish(p.live());
  transport.flush();  // the last bounds a strategy sent must reach peers that still wait for them
  p.finish();
}

}  // namespace wafersim
