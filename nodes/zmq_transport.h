// Transport between node processes over ZeroMQ (sim/transport.h's contract, across processes).
//
// Sockets, all owned by the simulation thread:
//   - one PULL socket bound on this node's data endpoint: event batches and window reports from
//     every peer arrive here (fair-queued; FIFO per sender, which is all the contract needs);
//   - one PUSH socket per peer it sends to, connected on first use: batches go only to the
//     partitions this one shares cut links with; window reports go to every partition, because
//     the window is a global minimum;
//   - the simulation end of the node's control pair (inproc PAIR) to the node's I/O thread, which
//     owns the coordinator connection: aborts and quiescence decisions come in here, idle/busy
//     reports go out. Every blocking wait polls it, so an abort never leaves the thread stuck.
// Every frame is a Cap'n Proto Envelope (protocol/codec.h). A frame that fails to decode, or a
// kind that has no business on the data socket, is counted and logged with its sender, and the
// node carries on (contract 6).
//
// allGather sends this node's report to every other node and waits for theirs: one one-way hop,
// not a round trip through the coordinator. Batches sent to a peer are held back and leave with
// the next report to it as one multipart message (one wake-up per peer and window instead of
// two), or at the next receive() or flush().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "protocol/codec.h"
#include "protocol/curve_keys.h"
#include "sim/run_progress.h"
#include "sim/transport.h"

namespace wafersim {

class ZmqTransport final : public Transport {
 public:
  // `data` is this node's bound PULL socket; `control` the simulation end of the control pair.
  // `endpoints[p]` is partition p's data endpoint. `runId` names the run: frames that name another
  // (late ones of an earlier run on the same data socket) are dropped and counted as stale.
  // With `curve`, peer sockets are CURVE clients of the peers' data sockets, whose public keys are
  // `keys[p]` (Assign.dataKeys).
  ZmqTransport(zmq::context_t& context, PartitionId self, std::vector<std::string> endpoints, zmq::socket_t& data,
               zmq::socket_t& control, std::string runId = "",
               std::shared_ptr<const proto::CurveSecurity> curve = nullptr, std::vector<std::string> keys = {});
  ~ZmqTransport() override;

  PartitionId self() const override { return self_; }
  // Where the bytes of the batches sent go (the partition's live slot, run_progress.h); may be null.
  void setLive(PartitionProgress* live) { live_ = live; }
  uint32_t partitionCount() const override { return static_cast<uint32_t>(endpoints_.size()); }
  void send(PartitionId to, EventBatch& batch) override;
  bool receive(EventBatch& out, Wait wait) override;
  void requeue(std::vector<EventBatch>&& batches) override;
  void recycle(std::vector<Event>&& events) override;
  void allGather(const WindowReport& mine, std::vector<WindowReport>& all) override;
  void flush() override;

  // The run is over everywhere: whatever is still queued for peers is of no use to anyone, so
  // closing must not wait for it (call before destruction, after the coordinator's shutdown).
  void dropPending();
  // Waits on the control pair for the end of the run everywhere (release, abort or shutdown).
  void awaitShutdown();
  uint64_t staleFrames() const { return staleFrames_; }  // frames of other runs, dropped

  uint64_t eventsSent() const { return eventsSent_; }
  uint64_t eventsReceived() const { return eventsReceived_; }
  const proto::RejectCounter& rejects() const { return rejects_; }

 private:
  zmq::socket_t& peer(PartitionId to);
  void flush(PartitionId to);
  // Waits up to timeoutMs for one frame on the data or control socket and handles it.
  // Returns true when a frame was handled. Throws Error{Disconnected} on an abort.
  bool pump(int timeoutMs);
  // Pumps until ready() holds: spins first (pump(0), yielding the core between tries) for a bounded
  // time, then blocks in poll slices (zmq_transport.cc's kSpin has the measurements).
  template <typename Ready>
  void await(Ready&& ready);
  void handleData(zmq::message_t&& frame);
  void handleControl(zmq::message_t&& frame);
  void reportIdle(bool idle);

  zmq::context_t& context_;
  const PartitionId self_;
  const std::string runId_;
  uint64_t staleFrames_ = 0;
  const std::vector<std::string> endpoints_;
  const std::shared_ptr<const proto::CurveSecurity> curve_;
  const std::vector<std::string> keys_;
  zmq::socket_t& data_;
  zmq::socket_t& control_;
  std::vector<std::optional<zmq::socket_t>> peers_;
  std::vector<std::vector<zmq::message_t>> pending_;  // per peer: frames held back by send()
  proto::Encoder encoder_;
  proto::RejectCounter rejects_;
  uint64_t rejectsLogged_ = 0;

  std::deque<EventBatch> batches_;                              // received, not yet taken
  std::map<uint64_t, std::vector<std::optional<WindowReport>>> reports_;  // by round, then partition
  std::vector<std::vector<Event>> spare_;
  uint64_t round_ = 0;

  bool idle_ = false;
  bool terminated_ = false;
  uint64_t idleEpoch_ = 0;
  uint64_t eventsSent_ = 0;
  uint64_t bytesSent_ = 0;
  PartitionProgress* live_ = nullptr;
  uint64_t eventsReceived_ = 0;
};

}  // namespace wafersim
