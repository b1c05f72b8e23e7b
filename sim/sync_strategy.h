// Conservative synchronization strategies behind one interface, chosen per run (contract 3).
//
//   window  YAWNS/LBTS-style windows: after each window every partition reports its earliest
//           pending event, what it sent to whom, and its lookahead (A, C) per peer; one collective
//           (Transport::allGather) gives each partition the end of its next window, the minimum over
//           its in-peers of max(A, T + C). Idle stretches are skipped because T is each sender's
//           earliest pending event, not the last window end. One collective per window.
//           Best when the cut graph is dense or when events cluster in time.
//   null    Chandy-Misra-Bryant null messages: partitions run asynchronously; each batch to a peer
//           carries a bound (no later event earlier than it) from the same per-peer lookahead.
//           No collective at all; best with sparse cut graphs and uneven load. Termination without
//           an end time uses the transport's quiescence detection (Wait::Idle).
// Both commit exactly the same events in the same order: results do not depend on the choice.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/partition.h"
#include "sim/transport.h"

namespace wafersim {

enum class SyncKind { Window, NullMessage };

SyncKind parseSyncKind(std::string_view text);
const char* toString(SyncKind kind);

struct SyncStats {
  uint64_t rounds = 0;        // windows, or null-message loop iterations
  uint64_t batchesSent = 0;
  uint64_t nullMessages = 0;  // batches that carried no event
  uint64_t eventsSent = 0;    // events that crossed to another partition
  double waitSeconds = 0;     // wall time blocked in the transport
  // When set (RunOptions::recordWindowWork): the window strategy appends the events this partition
  // committed in each window, for scaling models (bench_scaling_model). Borrowed; not on the wire.
  std::vector<uint32_t>* windowWork = nullptr;
  // Copies these figures into the partition's live slot (run_progress.h), if it has one.
  void publish(PartitionProgress* live) const;
};

class SyncStrategy {
 public:
  virtual ~SyncStrategy() = default;
  virtual SyncKind kind() const = 0;
  // Runs a set-up partition until no event before `end` remains anywhere (events at times < end are
  // committed). Throws on a transport failure or a broken invariant.
  virtual void run(Partition& partition, Transport& transport, SimTime end, SyncStats& stats) = 0;
};

std::unique_ptr<SyncStrategy> makeSyncStrategy(SyncKind kind);

// Receives, for one round, exactly one batch from each in-peer, keeping batches of later rounds
// for later (transports only keep FIFO order per peer pair: a fast peer's next-round batch can
// come before a slow peer's batch of this round).
class RoundCollector {
 public:
  template <typename Deliver>
  void collect(Transport& transport, const std::vector<PartitionId>& inPeers, uint64_t round, Deliver&& deliver);
  // Hands batches kept for later back to the transport; call when done with rounds (the init
  // phases end, and the first batches of the run may already be here).
  void release(Transport& transport) {
    if (!early_.empty()) transport.requeue(std::move(early_));
    early_.clear();
  }

 private:
  std::vector<EventBatch> early_;
  EventBatch scratch_;
};

template <typename Deliver>
void RoundCollector::collect(Transport& transport, const std::vector<PartitionId>& inPeers, uint64_t round,
                             Deliver&& deliver) {
  size_t missing = inPeers.size();
  for (size_t i = 0; i < early_.size() && missing > 0;) {
    if (early_[i].round == round) {
      deliver(early_[i]);
      transport.recycle(std::move(early_[i].events));
      early_.erase(early_.begin() + static_cast<long>(i));
      --missing;
    } else {
      ++i;
    }
  }
  while (missing > 0) {
    transport.receive(scratch_, Wait::Yes);
    if (scratch_.round != round) {
      early_.push_back(std::move(scratch_));
      scratch_ = EventBatch{};
      continue;
    }
    deliver(scratch_);
    transport.recycle(std::move(scratch_.events));
    scratch_.events = {};
    --missing;
  }
}

}  // namespace wafersim
