// Runs a whole system in this process: one thread per partition over the in-process transport.
// The node processes (nodes/) run the same Partition and lifecycle over ZeroMQ instead.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <stop_token>
#include <vector>

#include "sim/component_registry.h"
#include "sim/lookahead.h"
#include "sim/partition.h"
#include "sim/partition_map.h"
#include "sim/results.h"
#include "sim/sync_strategy.h"
#include "sim/system_graph.h"

namespace wafersim {

struct RunOptions {
  SyncKind sync = SyncKind::Window;
  LookaheadMode lookahead = LookaheadMode::Model;
  SimTime end = SimTime::never();  // commit events at times < end; never: until no event is left
  uint64_t seed = 1;
  bool checker = false;  // verify conservative safety on every cross-partition event
  bool digest = true;    // hash every committed event (costs a few ns per event)
  std::stop_token stop;  // cancels the run (PartitionOptions::stop); not part of any message
  RunProgress* progress = nullptr;  // live progress (PartitionOptions::progress); not part of any message
  PartitionObserver* observer = nullptr;  // samples model state (PartitionOptions::observer)
  Duration observeEvery = Duration::fromPs(1'000'000'000);
  // Window strategy, in process: keep the events each partition committed in each window
  // (PartitionReport::windowWork). Costs 4 bytes per window and partition.
  bool recordWindowWork = false;
  // Checkpoints (checkpoint.h): taken every checkpoint.every of simulated time into
  // checkpoint.dir (window strategy only; every component type must have checkpoint hooks).
  CheckpointOptions checkpoint;
  // When set: the run resumes from this cut instead of starting (any partition count; the cut
  // must be of this system: its fingerprint).
  std::shared_ptr<const CheckpointImage> resume;
};

// Throws Error{InvalidConfig} naming the component types of the graph without checkpoint hooks
// (`why`: what needs them, for the message).
void requireCheckpointable(const SystemGraph& graph, const ComponentRegistry& registry, const std::string& why);
// Throws Error{InvalidConfig} unless `image` is a cut of the system with `fingerprint`.
void requireSameSystem(const CheckpointImage& image, uint64_t fingerprint);

struct PartitionReport {
  PartitionId id = 0;
  uint64_t events = 0;
  SyncStats sync;
  double wallSeconds = 0;  // from the start of setup to the end of the run
  std::vector<uint32_t> windowWork;
  CheckpointStats checkpoint;  // with RunOptions::recordWindowWork: events committed per window
  // The peak resident memory of the process that ran the partition, in KiB (getrusage's maximum
  // since the process started: a node that served earlier runs reports their peak too).
  uint64_t peakRssKiB = 0;
};

// getrusage(RUSAGE_SELF).ru_maxrss: this process's peak resident memory so far, in KiB.
uint64_t peakResidentKiB();

struct RunReport {
  Results results;
  std::vector<PartitionReport> partitions;
  double wallSeconds = 0;  // the run phase (setup to finish), the slowest partition
  uint64_t events() const;
  double syncWaitFraction() const;  // mean over partitions of wait / wall
};

// Validates the graph and the partitioning, then runs. Errors in the configuration throw
// Error{InvalidConfig} before any thread starts; an error inside a partition stops all of them
// and is rethrown here.
RunReport runInProcess(const SystemGraph& graph, const ComponentRegistry& registry, const PartitionMap& map,
                       const RunOptions& options);

}  // namespace wafersim
