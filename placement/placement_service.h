// The online placement service (`wafersim-placement`, ARCHITECTURE.md contract 5): node processes
// send a PlacementRequest (protocol/placement_messages.h) at an epoch boundary of simulated time
// and get back the decision of the named policy, or "kept" (the mapping in force stays) with the
// reason when the policy failed or ran past the wall-clock deadline.
//
// Contract:
//  - One answer per question. Replies are memoised by (run id, epoch): every node that asks the
//    same question gets the very same reply bytes, whatever it sent, whenever it asks (while the
//    reply is in the cache). That is what keeps node processes in agreement when a deadline — a
//    wall-clock, hence irreproducible, event — decides the outcome (contract 2). Requests for a
//    question already being decided wait for that decision; they start nothing. Only the first
//    request of a question is read in full (and checked); later ones are matched by name alone.
//  - Policies are pure (placement/policy.h); the service adds only the deadline. A policy that
//    overruns it cannot be interrupted: its worker thread runs on and its result is dropped, and
//    it still counts against `workers` until it returns. A deadline counts from the arrival of the
//    question's first request, queueing for a worker included.
//  - A frame that fails to decode, or is not a placementRequest, is rejected, counted and not
//    answered; a placementRequest whose content is refused (placement_convert.h's checks) is
//    counted and answered "kept" with the rejection (not memoised). The service keeps running.
//  - The cache holds at most `cacheEntries` replies and `cacheBytes` of them, least recently used
//    out first; it must outlive the spread of the askers of one epoch (milliseconds in practice).
//
// Thread ownership: the thread that calls run() owns the socket (construct on any thread, then hand
// over); worker threads touch only their own request and a mutex-guarded completion list, and wake
// run() through an eventfd. stats() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/curve_keys.h"
#include "protocol/placement_messages.h"

namespace prometheus {
class Collectable;
}

namespace wafersim::placement {

struct ServiceOptions {
  std::string bind = "tcp://127.0.0.1:5570";  // "tcp://127.0.0.1:*": any free port, see endpoint()
  std::chrono::milliseconds deadline{10000};  // per question, from its first request's arrival
  size_t cacheEntries = 4096;
  size_t cacheBytes = size_t{256} << 20;
  uint32_t workers = 4;  // policies running at once
  bool log = true;       // one line per decision on stderr
  // CURVE (protocol/curve_auth.h): the socket serves with this key pair and lets in only the
  // allowed client keys. Null: plaintext.
  std::shared_ptr<const proto::CurveSecurity> curve;
};

// Runs the request's policy here and now, with no deadline: resolves the options against the
// policy's ParamSpecs, decides, and checks the result (a placement of the problem's shape that
// validates against its unusable dies). Never throws for a bad request or a failing policy: that is
// a "kept" reply saying "policy NAME failed: ...". decisionMicros is the wall time it took.
proto::PlacementReplyMessage runPolicy(proto::PlacementRequestMessage request);

class PlacementService {
 public:
  // Binds the ROUTER socket; throws Error{InvalidConfig} when the endpoint cannot be bound.
  explicit PlacementService(ServiceOptions options);
  ~PlacementService();
  PlacementService(const PlacementService&) = delete;
  PlacementService& operator=(const PlacementService&) = delete;

  // The bound endpoint, with the port resolved ("tcp://127.0.0.1:41234").
  const std::string& endpoint() const { return endpoint_; }
  // wafersim_zmq_auth_*_total{socket="placement"}; null without CURVE.
  std::shared_ptr<prometheus::Collectable> authMetrics() const;

  // Serves until `stop` becomes true (looked at least every 100 ms; a signal handler may set it).
  void run(const std::atomic<bool>& stop);

  struct Stats {
    uint64_t requests = 0;   // frames received
    uint64_t decisions = 0;  // questions decided (applied or kept), each once
    uint64_t applied = 0;
    uint64_t kept = 0;       // of decisions: failed or past the deadline
    uint64_t deadlines = 0;  // of kept: past the deadline
    uint64_t memoHits = 0;   // requests answered from the cache or by joining a question in flight
    uint64_t rejected = 0;   // frames refused
    // Wall time per decision: counts in [kDecisionBounds[i-1], kDecisionBounds[i]) seconds, the
    // last one everything above; and their sum.
    std::vector<uint64_t> decisionBuckets;
    double decisionSeconds = 0;
  };
  static constexpr double kDecisionBounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30};
  Stats stats() const;
  std::string rejectSummary() const;  // "malformed=2 invalid-content=1"; read after run() returned

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string endpoint_;
};

}  // namespace wafersim::placement
