// The node side of the placement service (placement_service.h): asks a question, waits a bounded
// time, and always comes back with an answer.
//
// Lazy Pirate (ZeroMQ guide, ch. 4): a REQ socket, one request, a poll with the timeout; no answer
// means the socket is closed (dropping the request and whatever answer is late) and a fresh one
// sends the same request again, up to `retries` more times. When every try goes unanswered, or the
// answer is refused (a frame that does not decode, another question's answer, a placement of
// another shape), ask() returns "kept" with the reason, e.g. "placement service at
// tcp://127.0.0.1:5570 did not answer in 1500 ms (3 tries of 500 ms)". The mapping in force then
// stays.
//
// Determinism: the service answers every node of a run alike (it memoises by run id and epoch),
// but a client that gives up decides for its node alone; size the timeout well above the service's
// deadline so that this is a failure of the service, not a race.
//
// Thread ownership: one PlacementClient per thread (it owns a ZeroMQ socket).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "placement/problem.h"
#include "protocol/curve_auth.h"
#include "protocol/placement_messages.h"
#include "protocol/reject_counter.h"
#include "sim/params.h"

namespace wafersim::placement {

class PlacementClient {
 public:
  // `sender`: this process's id in the envelopes (a node's rank). `context`: borrowed, must outlive
  // the client; null: the client makes its own. `curve`: how to reach a CURVE service (its key).
  PlacementClient(std::string endpoint, std::chrono::milliseconds timeout, uint32_t retries = 2, uint32_t sender = 0,
                  zmq::context_t* context = nullptr, proto::CurveClient curve = {});
  ~PlacementClient();
  PlacementClient(const PlacementClient&) = delete;
  PlacementClient& operator=(const PlacementClient&) = delete;

  // Asks for policy `policy` with the given (unresolved) options on `problem` (its own options are
  // not sent). Never throws for a silent or misbehaving service.
  proto::PlacementReplyMessage ask(const std::string& runId, uint64_t epoch, const std::string& policy,
                                   const Params& options, const Problem& problem);
  proto::PlacementReplyMessage ask(const proto::PlacementRequestMessage& request);

  const std::string& endpoint() const { return endpoint_; }
  const proto::RejectCounter& rejects() const { return rejects_; }  // refused answers
  uint32_t tries() const { return tries_; }                         // requests sent by the last ask()

 private:
  proto::PlacementReplyMessage exchange(zmq::message_t&& frame, const std::string& runId, uint64_t epoch,
                                        const Problem& problem);

  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  uint32_t retries_;
  uint32_t sender_;
  proto::CurveClient curve_;
  std::unique_ptr<zmq::context_t> ownContext_;
  zmq::context_t* context_;
  std::optional<zmq::socket_t> socket_;
  proto::RejectCounter rejects_;
  uint32_t tries_ = 0;
};

// A run's own way to ask services (models' BuildContext::placement): one client per endpoint and
// timeout, owned by the returned function (so by the run) and closed with it. Thread-safe: the
// clients are used under a lock, one question at a time. `curve`: the service's key (Assign's).
RemoteDecider makeRemoteDecider(proto::CurveClient curve = {});

// The placement service's side of the coordinator's node pool (coordinator/node_pool.h): says
// hello (capability "placement", `advertise` as its endpoint) on `coordinator`, heartbeats, and
// says hello again when the coordinator falls silent (a restart), until `stop`.
// With `curve`, the hello carries this service's public key and the connection is a CURVE client
// of the coordinator (curve->coordinatorKey).
void registerWithCoordinator(const std::string& coordinator, const std::string& advertise,
                             const std::atomic<bool>& stop,
                             const std::shared_ptr<const proto::CurveSecurity>& curve = nullptr);
// "tcp://0.0.0.0:5570" -> "tcp://<hostname>:5570"; other endpoints as they are.
std::string advertisedEndpoint(const std::string& bound);

}  // namespace wafersim::placement
