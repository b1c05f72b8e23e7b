// PHOLD (Fujimoto), parameterized as in the ROSS engine's phold model so figures compare.
//
// N logical processes joined by one fabric whose latency is the minimum delay (the lookahead).
// Each LP starts with `initial_events` events. Handling one schedules exactly one successor at
// now + lookahead + Exp(mean): with probability `remote` to an LP drawn uniformly from all LPs,
// otherwise to itself. Every draw comes from the LP's own stream, so results are the same for
// any partitioning.
//
// Compute mode (`service` > 0): each LP is a FIFO server that takes `service` per event; the
// successor leaves when the job completes. The LP sends it when the job arrives, with the wait
// for completion folded into its delay, so that every send is at least `service` after the event
// that causes it: it declares the service time as its reaction delay and promises the earliest
// completion of a job not yet received, which is what the kernel's model lookahead exploits
// (bench/phold). (A completion self-event that sends at once would break the reaction delay.)
#pragma once

#include <cstdint>

#include "sim/component_registry.h"
#include "sim/system_graph.h"

namespace wafersim::synthetic {

struct PholdConfig {
  uint32_t lps = 16;
  uint32_t initialEvents = 1;
  double remote = 0.25;
  Duration lookahead = Duration::fromPs(100);  // 0.1 time unit of 1 ns
  Duration mean = Duration::fromPs(900);       // mean of the exponential part
  Duration service = Duration::zero();
};

void registerPhold(ComponentRegistry& registry);
SystemGraph buildPhold(const PholdConfig& config);

}  // namespace wafersim::synthetic
