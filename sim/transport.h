// How partitions talk: the only thing that differs between in-process threads and ZeroMQ nodes.
//
// STYLE.md P3: the synchronization strategies (sync_strategy.h) drive a Partition and talk to peers
// only through this interface; they never see sockets. Lookahead comes from lookahead.h.
//
// Contract (both implementations):
//  - Batches from one sender to one receiver arrive in the order sent (FIFO per peer pair).
//  - send() takes the events out of the batch; the vector is left empty, possibly with capacity
//    recycled from earlier batches so that steady state allocates nothing. A transport may hold
//    sent batches back to travel together with what follows (ZeroMQ sends a window's batch and
//    report as one message), but they leave no later than the next receive(), allGather() or
//    flush() call.
//  - allGather() is a collective: every partition calls it once per round, in the same sequence of
//    rounds, and each gets every partition's report, indexed by partition id. A batch sent before
//    a partition's allGather call is visible to receive() on its peer once that peer's allGather
//    of the same round has returned.
//  - Thread ownership: one Transport endpoint belongs to one partition's thread.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/event.h"

namespace wafersim {

struct EventBatch {
  PartitionId from = 0;
  PartitionId to = 0;                  // the receiver: set by send() (a node serves several partitions)
  uint64_t round = 0;                  // window number or init phase; informational for null messages
  SimTime bound = SimTime::zero();     // null messages: the sender sends nothing earlier than this from now on
  std::vector<Event> events;
};

// What a partition knows about its output towards one peer after processing a window.
// The three bounds of sim/lookahead.h: output towards the peer >= min(quiet, max(promise, M + reaction)).
struct PeerReport {
  PartitionId peer = 0;
  SimTime minSent = SimTime::never();  // earliest event sent to the peer in this round
  SimTime promise = SimTime::zero();   // A: no output towards the peer before this (component promises)
  Duration reaction;                   // C: no output before (arrival of a remote event) + this
  SimTime quiet = SimTime::zero();     // no output caused by what is pending in the sender now before this
};

struct WindowReport {
  SimTime nextEvent = SimTime::never();  // earliest event still pending locally (own queue only)
  uint64_t counter = 0;                  // a sum to reduce (init phases: messages sent)
  std::vector<PeerReport> peers;         // one per out-peer
};

enum class Wait {
  No,    // return at once when nothing is queued
  Yes,   // block until a batch arrives
  Idle,  // block as an idle partition: returns false once every partition is idle with nothing in flight
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual PartitionId self() const = 0;
  virtual uint32_t partitionCount() const = 0;

  virtual void send(PartitionId to, EventBatch& batch) = 0;
  // Fills `out` with the next batch from any peer. Returns false when nothing is available
  // (Wait::No) or when the run is quiescent (Wait::Idle).
  virtual bool receive(EventBatch& out, Wait wait) = 0;
  // Puts batches taken by receive() but not consumed back in front of the queue, in the given
  // order: the next receive() calls return them first.
  virtual void requeue(std::vector<EventBatch>&& batches) = 0;
  // Returns an emptied events vector to the transport for reuse by later sends.
  virtual void recycle(std::vector<Event>&& events) { (void)events; }

  virtual void allGather(const WindowReport& mine, std::vector<WindowReport>& all) = 0;
  // Sends whatever send() held back.
  virtual void flush() {}
};

}  // namespace wafersim
