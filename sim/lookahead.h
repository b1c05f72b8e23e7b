// Lookahead: how far ahead of its earliest pending event a partition can promise to send
// nothing to a peer (ARCHITECTURE.md contract 3, STYLE.md P3).
//
// An event crosses from partition p to its peer q only from a boundary port b (a component's
// port on a cut link or fabric towards q), when b's component handles an event at some t and sends:
//     output(b) >= max(A_b, t + C_b)
//     C_b = reaction delay of b's component + cut latency of b
//     A_b = promised output time of b's port (Component::promisedOutputTimeOn) + cut latency of b
// The event b's component handles is one pending for it now (t >= T, p's earliest pending event),
// or one sent later inside p (t >= S, the earliest instant any local component with a pending
// event can send: Partition::earliestLocalSend; every later local send descends from such a one),
// or one from another partition (t >= M, the earliest that can still arrive). So
//     output(p -> q) >= min( quiet, max(A, M + C) )
//     quiet = min over b of max(A_b, (b's component has pending events ? T : S) + C_b)
//     A = min over b of A_b,  C = min over b of C_b
// A report carries (quiet, A, C); the caller supplies M: the window strategy the earliest event
// sent to p in the round (WindowReport), the null-message strategy its channels' bound. S is what
// lets a partition whose routers are idle and whose dies are inside compute ops promise past the
// ops' ends, where "T + C" would stop at the next internal event.
// "links" mode uses the cut latencies alone (C = min cut latency, no promise, S = T): the classic
// floor. "model" mode adds what components declare (Component::declareReactionDelay and
// promiseNoOutputBefore), which widens windows for models that compute between sends.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/transport.h"

namespace wafersim {

class Component;

enum class LookaheadMode { Links, Model };

LookaheadMode parseLookaheadMode(std::string_view text);
const char* toString(LookaheadMode mode);

class Lookahead {
 public:
  void reset(size_t outPeers, LookaheadMode mode);
  // Records that `component` sends to out-peer outIndex from `port` with at least `cutLatency`.
  void addBoundary(size_t outIndex, const Component* component, PortId port, Duration cutLatency);
  // Call once all boundaries are added.
  void seal();
  // What a partition knows about itself when it reports.
  struct LocalState {
    SimTime remoteFloor;                     // nothing from another partition arrives earlier (M >= it)
    SimTime next;                            // T: the earliest pending event
    SimTime firstSend;                       // S: Partition::earliestLocalSend()
    const std::vector<uint32_t>& pendingBy;  // pending events per component id
  };
  // quiet, A and C towards outIndex; the scan stops as soon as the rest cannot matter. minSent is
  // left to the caller.
  PeerReport bound(size_t outIndex, const LocalState& local) const;
  Duration minCutLatency(size_t outIndex) const { return linkMin_[outIndex]; }

 private:
  struct Entry {
    const Component* component;
    PortId port;
    Duration latency;   // the cut latency
    Duration reaction;  // the component's reaction delay + latency (set by seal)
  };
  LookaheadMode mode_ = LookaheadMode::Model;
  std::vector<std::vector<Entry>> boundary_;
  std::vector<Duration> linkMin_, modelMin_;
};

// The sender-side bound of a report, given that nothing from other partitions reaches the
// sender before `remoteArrivals` (M above): no event to the peer before min(quiet, max(A, M + C)).
inline SimTime outputBound(const PeerReport& r, SimTime remoteArrivals) {
  return min(r.quiet, max(r.promise, remoteArrivals + r.reaction));
}

// The window strategy's grant from every partition's report of this round: the end of the next
// window, the same for all partitions (events with time < windowEnd are safe everywhere), and
// whether the whole run is over (nothing anywhere before `end`). A pure function: every
// partition, or a coordinator, computes the same grant from the same reports.
//
// The window is global on purpose. Per-receiver ends (min over in-peers only) let two partitions
// leapfrog: each one's window ends at the other's earliest event plus lookahead, so widths
// alternate (measured: 61 ps and 139 ps with a 100 ps lookahead) and so does the load per window,
// while the barrier makes every round as slow as its busiest partition.
struct WindowGrant {
  SimTime windowEnd = SimTime::zero();
  SimTime globalNext = SimTime::never();  // earliest pending event anywhere
  bool done = false;
};
WindowGrant computeWindowGrant(const std::vector<WindowReport>& all, SimTime end);

}  // namespace wafersim
