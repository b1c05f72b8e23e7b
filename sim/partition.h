// One partition of the simulated system, run by one thread: its components, its future-event
// set, and the boundary to other partitions. Knows nothing of threads or sockets; a
// SyncStrategy drives it and moves its outboxes through a Transport.
//
// Invariant: every event with time < processedUpTo() has been committed, and none will arrive:
// deliverRemote() checks this in checker mode (conservative safety, contract 3).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <stop_token>
#include <vector>

#include "sim/checkpoint.h"
#include "sim/component.h"
#include "sim/component_registry.h"
#include "sim/event_queue.h"
#include "sim/lookahead.h"
#include "sim/observer.h"
#include "sim/partition_map.h"
#include "sim/run_progress.h"
#include "sim/system_graph.h"

namespace wafersim {

struct FabricBinding {
  std::string name;
  Duration latency;
  std::vector<ComponentId> members;
  std::vector<PortId> memberPort;  // the fabric's port index on each member
  std::vector<int32_t> peer;       // outbox index of each member's partition, -1 when local
};

// A declared port after connect: where its events go.
struct BoundPort {
  enum class Kind : uint8_t { Unbound, Link, Fabric };
  Kind kind = Kind::Unbound;
  PortId targetPort = 0;
  int32_t peer = -1;  // outbox index, -1 when the target is local
  ComponentId target = 0;
  Duration latency;
  const FabricBinding* fabric = nullptr;
};

struct PartitionOptions {
  uint64_t seed = 1;
  LookaheadMode lookahead = LookaheadMode::Model;
  bool checker = false;  // assert conservative safety on every cross-partition event
  bool digest = true;    // hash every committed event into the results digest
  // Cancels the run: processUntil checks it every kStopCheckEvents events and at every call, and
  // throws Error{Disconnected} "run cancelled" once it is requested (the caller decides what the
  // cancellation means: a user's cancel, a wall-clock limit).
  std::stop_token stop;
  RunProgress* progress = nullptr;  // when set: updated as events commit (and its partition slot, if made)
  // When set: sampled every `observeEvery` of simulated time, and once after finish (observer.h).
  PartitionObserver* observer = nullptr;
  Duration observeEvery = Duration::fromPs(1'000'000'000);  // 1 ms
  // When set and enabled: the window strategy writes this partition's part of a cut whenever a
  // window starts at or after the next multiple of checkpoint->every (checkpoint.h). Borrowed.
  const CheckpointOptions* checkpoint = nullptr;
};

// What a partition's checkpoints cost (the run's report).
struct CheckpointStats {
  uint64_t written = 0;
  uint64_t bytes = 0;     // of all parts written
  double seconds = 0;     // wall time spent saving, encoding and writing them
};

// The final state of one component, for the results document.
struct ComponentResult {
  ComponentId id = 0;
  std::string name;
  std::string type;
  uint64_t eventDigest = 0;  // hash chain over the events it committed, in order
  uint64_t eventsCommitted = 0;
  const StatSet* stats = nullptr;  // borrowed from the component; valid while the Partition lives
};

class Partition {
 public:
  enum class Phase { Constructed, Connected, Initialized, SetUp, Running, Finished };

  // Lifecycle steps 1 and 2: constructs the local components and binds their ports.
  // The graph must have passed validate() and the map validatePartitioning().
  Partition(const SystemGraph& graph, const ComponentRegistry& registry, const PartitionMap& map, PartitionId self,
            PartitionOptions options);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  PartitionId self() const { return self_; }
  Phase phase() const { return phase_; }

  // Lifecycle step 3, one phase: delivers the messages of the previous phase (handleInit), calls
  // init(phase) everywhere and returns how many messages were sent. Remote ones are in the outboxes.
  uint64_t initPhase(unsigned phase);
  void deliverInit(const std::vector<Event>& events);
  void endInit();
  // Lifecycle steps 4 and 6.
  void setup();
  void finish();

  // CHECKPOINTS (checkpoint.h). This partition's part of the cut at processedUpTo(): call it only
  // where the cut is consistent (right after a window's exchange, outboxes empty).
  CheckpointPart checkpoint(uint64_t fingerprint, uint32_t partitions, uint64_t window) const;
  // Instead of setup(), after the init phases: the local components' state and the events pending
  // for them from a cut taken on any number of partitions (Component::restore).
  void restore(const CheckpointImage& image);
  // True when a checkpoint is due at this window start (the same answer on every partition: the
  // window start is global). writeCheckpoint writes this partition's part of the cut.
  bool checkpointDue() const { return checkpointing_ && processedUpTo_ >= nextCheckpoint_; }
  // Where a window must end so that a window starts at the next checkpoint instant, or at the
  // first event after it when none is before (`globalNext`: the earliest event anywhere; the
  // same on every partition); never() without checkpoints.
  SimTime checkpointCap(SimTime globalNext) const {
    return checkpointing_ ? max(nextCheckpoint_, globalNext) : SimTime::never();
  }
  void writeCheckpoint(uint64_t window);
  // Partition 0 only: whether a cut is wanted at the next window start for a reason that is not
  // simulated time (its wall-clock interval passed, or one was requested). Takes the request.
  bool checkpointWanted();
  const CheckpointStats& checkpointStats() const { return checkpointStats_; }

  // Commits every event with time < bound, in event order.
  void processUntil(SimTime bound);
  SimTime nextEventTime() const { return queue_.nextTime(); }
  SimTime processedUpTo() const { return processedUpTo_; }
  SimTime lastEventTime() const { return now_; }
  uint64_t eventsCommitted() const { return committed_; }

  // The partitions this one sends to and receives from (by cut links and fabrics), ascending.
  const std::vector<PartitionId>& outPeers() const { return outPeers_; }
  const std::vector<PartitionId>& inPeers() const { return inPeers_; }
  std::vector<Event>& outbox(size_t outIndex) { return outbox_[outIndex]; }
  SimTime minSent(size_t outIndex) const { return minSent_[outIndex]; }
  void clearMinSent();
  // Events from another partition. Checker mode: each must be at or after processedUpTo().
  void deliverRemote(PartitionId from, const std::vector<Event>& events);
  // The lookahead towards out-peer outIndex, from this partition's pending events and its
  // components' promises, given that no event from another partition arrives before
  // `remoteFloor` (what it may still send: lookahead.h); `firstSend` is earliestLocalSend(),
  // computed once for all peers.
  PeerReport boundTo(size_t outIndex, SimTime remoteFloor, SimTime firstSend) const;
  // The earliest instant at which any local component can send anything because of an event
  // pending here now: the minimum, over components with pending events, of max(promise,
  // earliest pending event + reaction delay). Events sent later are caused by these sends or by
  // events from other partitions (never: nothing is pending).
  SimTime earliestLocalSend() const;
  // Checker mode: what this partition told outIndex it would not undercut.
  void announce(size_t outIndex, SimTime bound) { announced_[outIndex] = bound; }

  std::vector<ComponentResult> results() const;

  // The local components, in id order (for observers: read-only).
  const std::vector<std::unique_ptr<Component>>& components() const { return components_; }
  size_t queueDepth() const { return queue_.size(); }
  // This partition's live slot in options.progress, or null (sync strategies publish there).
  PartitionProgress* live() const { return live_; }

 private:
  friend class Component;
  void requirePhase(Phase expected, const char* step) const;
  void startRunning();  // the end of setup() and restore()
  void push(const Event& e, int32_t peer);
  // Every event into queue_ goes through here: pendingBy_ must count it (earliestLocalSend).
  void enqueue(const Event& e) {
    queue_.push(e);
    ++pendingBy_[e.target];
  }
  [[noreturn]] void brokenPromise(const Event& e, size_t outIndex) const;

  PartitionId self_;
  uint32_t partitions_;
  PartitionOptions options_;
  bool checkpointing_ = false;
  const CheckpointImage* restoring_ = nullptr;  // during restore() (Component::savedStateOf)
  SimTime nextCheckpoint_ = SimTime::never();
  std::chrono::steady_clock::time_point lastCut_;  // wall clock of the run's start or last cut
  CheckpointStats checkpointStats_;
  Phase phase_ = Phase::Constructed;
  bool initializing_ = false;
  SimTime now_ = SimTime::zero();
  SimTime processedUpTo_ = SimTime::zero();
  uint64_t committed_ = 0;
  uint64_t reported_ = 0;  // committed events already added to options_.progress
  PartitionProgress* live_ = nullptr;
  SimTime nextObservation_ = SimTime::never();
  void observe(SimTime nextEvent);
  void publishLive();

  std::vector<std::unique_ptr<Component>> components_;  // local, in id order
  std::vector<Component*> byId_;                        // global id -> local component or null
  std::vector<std::vector<BoundPort>> ports_;           // parallel to components_
  std::vector<std::unique_ptr<FabricBinding>> fabrics_;
  std::vector<uint64_t> digest_;                        // by global id
  std::vector<uint64_t> committedBy_;                   // by global id
  std::vector<uint32_t> pendingBy_;                     // by global id: events in queue_ for it
  Duration minReaction_ = Duration::zero();             // the smallest reaction delay here
  EventQueue queue_;
  std::vector<Event> initInbox_;

  std::vector<PartitionId> outPeers_, inPeers_;
  std::vector<std::vector<Event>> outbox_;
  std::vector<SimTime> minSent_;
  std::vector<SimTime> announced_;
  Lookahead lookahead_;
};

// 64-bit mixing (a variant of the murmur3 finalizer) used for the results digest.
constexpr uint64_t mixHash(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  return h;
}

}  // namespace wafersim
