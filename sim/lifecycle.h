// Drives one partition through the whole component lifecycle (component.h): init phases until no
// component anywhere sends, setup, the run under a synchronization strategy, finish.
// The same function runs partitions on threads and in node processes; only the Transport differs.
#pragma once

#include "sim/partition.h"
#include "sim/sync_strategy.h"
#include "sim/transport.h"

namespace wafersim {

// Returns the number of init phases run.
unsigned runInitPhases(Partition& partition, Transport& transport);

// With `resume`: the partition restores the cut (Partition::restore) instead of setting up.
void runLifecycle(Partition& partition, Transport& transport, SyncStrategy& strategy, SimTime end, SyncStats& stats,
                  const CheckpointImage* resume = nullptr);

}  // namespace wafersim
