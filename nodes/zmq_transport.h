// Transport between node processes over ZeroMQ (sim/transport.h's contract, across processes).
//
// A node hosts one or more partitions of a run (a hybrid node runs several on threads). Their
// ZeroMQ side is one NodeLink, shared by the node's ZmqTransport endpoints (one per partition):
//   - the node's PULL socket (bound on its data endpoint): event batches and window reports from
//     every other node arrive here (fair-queued; FIFO per sender, which is all the contract needs);
//     a batch names the partition it is for (EventBatch.to);
//   - one PUSH socket per other node it sends to, connected on first use: batches go only to the
//     nodes whose partitions share cut links with this one's; window reports go to every node,
//     because the window is a global minimum;
//   - the simulation end of the node's control pair (inproc PAIR) to the node's I/O thread, which
//     owns the coordinator connection: aborts and quiescence decisions come in here, idle/busy
//     reports go out. Every blocking wait polls it, so an abort never leaves a thread stuck.
// Between partitions of one node, batches go straight into the receiver's mailbox (no socket, no
// encoding); only batches between nodes travel over ZeroMQ.
// Every frame is a Cap'n Proto Envelope (protocol/codec.h). A frame that fails to decode, or a
// kind that has no business on the data socket, is counted and logged with its sender, and the
// node carries on (contract 6).
//
// allGather is two-level: the node's partitions meet at a local barrier, one of them (the first)
// sends the node's reports to every other node and waits for theirs (one one-way hop, not a round
// trip through the coordinator), and the others take the result at a second barrier. Messages per
// window: one per ordered pair of nodes, not of partitions. Batches sent to another node are held
// back and leave with the next reports to it as one multipart message (one wake-up per node pair
// and window instead of two), or at the next receive() or flush().
//
// Threads: each endpoint belongs to its partition's thread; the sockets and the shared state are
// used under the link's mutex (ZeroMQ sockets may change threads across a full memory barrier).
// The null-message strategy (Wait::Yes, Wait::Idle: a partition waits for any one batch) needs a
// node of one partition; hybrid nodes run the window strategy (the coordinator refuses the rest).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "protocol/codec.h"
#include "protocol/curve_keys.h"
#include "sim/impl/inproc_transport.h"
#include "sim/run_progress.h"
#include "sim/transport.h"

namespace wafersim {

class ZmqTransport;

class NodeLink {
 public:
  // `hosted`: the partitions of this node, ascending. `data` is this node's bound PULL socket;
  // `control` the simulation end of the control pair. `endpoints[p]` is partition p's data
  // endpoint (the same for the partitions of one node). `runId` names the run: frames that name
  // another (late ones of an earlier run on the same data socket) are dropped and counted as stale.
  // With `curve`, peer sockets are CURVE clients of the other nodes' data sockets, whose public
  // keys are `keys[p]` (Assign.dataKeys).
  NodeLink(zmq::context_t& context, std::vector<PartitionId> hosted, std::vector<std::string> endpoints,
           zmq::socket_t& data, zmq::socket_t& control, std::string runId = "",
           std::shared_ptr<const proto::CurveSecurity> curve = nullptr, std::vector<std::string> keys = {});
  ~NodeLink();
  NodeLink(const NodeLink&) = delete;
  NodeLink& operator=(const NodeLink&) = delete;

  // The endpoint of hosted partition `self`; call once per hosted partition, before the run, and
  // use it from that partition's thread.
  std::unique_ptr<ZmqTransport> endpoint(PartitionId self);
  const std::vector<PartitionId>& hosted() const { return hosted_; }

  // Makes every waiting or later collective of this node's endpoints throw Error{Disconnected}
  // with `reason` (one partition failed: the others must not wait for it).
  void abort(const std::string& reason);
  // The run is over everywhere: whatever is still queued for peers is of no use to anyone, so
  // closing must not wait for it (call before destruction, after the coordinator's shutdown).
  void dropPending();
  // Waits on the control pair for the end of the run everywhere (release, abort or shutdown).
  // Call once every endpoint is done.
  void awaitShutdown();

  uint64_t staleFrames() const { return staleFrames_; }  // frames of other runs, dropped
  uint64_t eventsSent() const { return eventsSent_; }    // to partitions on other nodes
  uint64_t eventsReceived() const { return eventsReceived_; }
  const proto::RejectCounter& rejects() const { return rejects_; }

 private:
  friend class ZmqTransport;
  struct Mailbox {
    SpinLock lock;
    std::deque<EventBatch> queue;
  };

  bool isLocal(PartitionId p) const { return slot_[p] >= 0; }
  zmq::socket_t& peer(uint32_t node);
  void flushLocked(uint32_t node);
  void flushLocked();
  // Waits up to timeoutMs for one frame on the data or control socket and handles it.
  // Returns true when a frame was handled. Throws Error{Disconnected} on an abort. Lock held.
  bool pumpLocked(int timeoutMs);
  // Pumps until ready() holds: spins first (pump(0), yielding the core between tries) for a bounded
  // time, then blocks in poll slices (zmq_transport.cc's kSpin has the measurements). Lock held.
  template <typename Ready>
  void awaitLocked(Ready&& ready);
  void handleData(zmq::message_t&& frame);
  void handleControl(zmq::message_t&& frame);
  void reportIdleLocked(bool idle);
  // The node's reports of this round to every other node, and theirs back into `gathered_`.
  void exchangeLocked(uint64_t round);
  // The local barrier of the two-level allGather; throws Error{Disconnected} after abort().
  void barrier();
  void checkAbort() const;

  zmq::context_t& context_;
  const std::vector<PartitionId> hosted_;
  const std::string runId_;
  const std::vector<std::string> endpoints_;
  const std::shared_ptr<const proto::CurveSecurity> curve_;
  const std::vector<std::string> keys_;
  zmq::socket_t& data_;
  zmq::socket_t& control_;
  std::vector<int> slot_;           // partition -> index in hosted_, or -1
  std::vector<uint32_t> nodeOf_;    // partition -> node (distinct data endpoints, in partition order)
  std::vector<PartitionId> firstOf_;  // node -> its first partition (whose endpoint and key it uses)
  uint32_t selfNode_ = 0;

  std::mutex mutex_;  // guards the sockets and everything below up to the mailboxes
  std::vector<std::optional<zmq::socket_t>> peers_;    // per node
  std::vector<std::vector<zmq::message_t>> pending_;   // per node: frames held back by send()
  proto::Encoder encoder_;
  proto::RejectCounter rejects_;
  uint64_t rejectsLogged_ = 0;
  std::map<uint64_t, std::vector<std::optional<WindowReport>>> reports_;  // by round, then partition
  uint64_t round_ = 0;
  bool idle_ = false;        // one partition per node: it waits as an idle partition
  bool terminated_ = false;
  uint64_t staleFrames_ = 0;
  uint64_t eventsSent_ = 0;
  uint64_t eventsReceived_ = 0;
  std::vector<std::vector<Event>> spare_;

  std::vector<std::unique_ptr<Mailbox>> mailboxes_;  // per hosted partition
  std::vector<WindowReport> local_;                  // this round's reports of the hosted partitions
  std::vector<WindowReport> gathered_;               // this round's reports of every partition
  alignas(64) std::atomic<uint32_t> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<bool> aborted_{false};
  std::mutex abortMutex_;
  std::string abortReason_;
};

class ZmqTransport final : public Transport {
 public:
  ZmqTransport(NodeLink& link, PartitionId self);

  PartitionId self() const override { return self_; }
  // Where the bytes of the batches sent go (the partition's live slot, run_progress.h); may be null.
  void setLive(PartitionProgress* live) { live_ = live; }
  uint32_t partitionCount() const override { return static_cast<uint32_t>(link_.endpoints_.size()); }
  void send(PartitionId to, EventBatch& batch) override;
  bool receive(EventBatch& out, Wait wait) override;
  void requeue(std::vector<EventBatch>&& batches) override;
  void recycle(std::vector<Event>&& events) override;
  void allGather(const WindowReport& mine, std::vector<WindowReport>& all) override;
  void flush() override;

 private:
  bool tryPop(EventBatch& out);

  NodeLink& link_;
  const PartitionId self_;
  const size_t slot_;
  proto::Encoder encoder_;
  std::deque<EventBatch> requeued_;
  std::vector<std::vector<Event>> spare_;
  uint64_t bytesSent_ = 0;
  PartitionProgress* live_ = nullptr;
};

}  // namespace wafersim
